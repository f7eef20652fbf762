"""Operator commands: `python -m app.admin create-api-key --tenant NAME` prints a new key once."""

from __future__ import annotations

import typer

from app.core.api_keys import create_api_key
from app.core.db.session import session_scope

cli = typer.Typer(help="Shears administration.", no_args_is_help=True)


@cli.callback()
def main() -> None:
    """Shears administration commands."""


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
