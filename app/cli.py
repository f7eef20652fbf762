"""Operator commands: `python -m app.cli create-api-key --tenant NAME` prints a new key once."""

from __future__ import annotations

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import KEY_PREFIX, generate_api_key, hash_api_key
from app.db.models import ApiKey, Tenant
from app.db.session import session_scope

cli = typer.Typer(help="Shears administration.", no_args_is_help=True)


@cli.callback()
def main() -> None:
    """Shears administration commands."""


def create_api_key(session: Session, tenant_name: str) -> str:
    """A new key for the tenant (created if it does not exist yet); only its hash is stored."""
    tenant = session.scalar(select(Tenant).where(Tenant.name == tenant_name))
    if tenant is None:
        tenant = Tenant(name=tenant_name)
        session.add(tenant)
        session.flush()
    key = generate_api_key()
    prefix = key[: len(KEY_PREFIX) + 6]
    session.add(ApiKey(tenant_id=tenant.id, key_hash=hash_api_key(key), prefix=prefix))
    session.flush()
    return key


@cli.command("create-api-key")
def create_api_key_command(
    tenant: str = typer.Option(..., "--tenant", help="Tenant name; created if new."),
) -> None:
    """Create an API key for TENANT and print it. It cannot be shown again."""
    with session_scope() as session:
        key = create_api_key(session, tenant)
    typer.echo(key)


if __name__ == "__main__":
    cli()
