"""Operator commands: `python -m app.admin create-api-key --tenant NAME` prints a new key once;
`list-api-keys` and `revoke-api-key KEY_ID` manage them.

The database is DATABASE_URL's or else the embedded one `make run` started under DATA_DIR (so
the commands work from a second terminal while `make run` runs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.core.api_keys import create_api_key, list_api_keys, revoke_api_key
from app.core.db.session import sqlalchemy_url
from app.core.settings import get_settings
from app.devserver.embedded.postgres import postgres_root, recorded_url

cli = typer.Typer(help="Shears administration.", no_args_is_help=True)
T = TypeVar("T")
CONNECT_TIMEOUT_SECONDS = 5


@cli.callback()
def main() -> None:
    """Shears administration commands."""


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def database_url() -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    data_dir = settings.data_dir.resolve()
    url = recorded_url(postgres_root(data_dir))
    if url is None:
        fail(
            f"no database: DATABASE_URL is not set and `make run` never started one in "
            f"{data_dir} (set DATA_DIR to its data directory, or DATABASE_URL)"
        )
    return str(url)


@contextmanager
def admin_session() -> Iterator[Session]:
    url = database_url()
    timeout = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    engine = create_engine(sqlalchemy_url(url), connect_args=timeout)
    try:
        with Session(engine) as session:
            session.execute(text("SELECT 1"))
            yield session
            session.commit()
    finally:
        engine.dispose()


def in_database(work: Callable[[Session], T]) -> T:
    """`work` in one transaction; a one-line error (never a traceback) if it cannot be done."""
    try:
        with admin_session() as session:
            return work(session)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
        fail(f"cannot reach the database (is `make run` running?): {reason}")
        raise  # unreachable: fail() exits


@cli.command("create-api-key")
def create_api_key_command(
    tenant: str = typer.Option(..., "--tenant", help="Tenant name; created if new."),
) -> None:
    """Create an API key for TENANT and print it. It cannot be shown again."""
    typer.echo(in_database(lambda session: create_api_key(session, tenant)))


@cli.command("list-api-keys")
def list_api_keys_command(
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's keys."),
) -> None:
    """List keys: id, tenant, prefix, created, and when revoked."""

    def rows(session: Session) -> list[str]:
        return [
            f"{key.id}\t{key.tenant.name}\t{key.prefix}...\t{key.created_at:%Y-%m-%d %H:%M}\t"
            + (f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active")
            for key in list_api_keys(session, tenant)
        ]

    for line in in_database(rows):
        typer.echo(line)


@cli.command("revoke-api-key")
def revoke_api_key_command(
    key_id: str = typer.Argument(..., help="The key's id or prefix, as list-api-keys shows."),
) -> None:
    """Revoke a key: the API answers 401 to it from the next request on."""
    found = in_database(lambda session: revoke_api_key(session, key_id.rstrip(".")) is not None)
    if not found:
        fail(f"no API key {key_id!r}; see `python -m app.admin list-api-keys`")
    typer.echo(f"revoked {key_id}")


if __name__ == "__main__":
    cli()
