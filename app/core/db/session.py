"""The engine and sessionmaker, shared by the API (get_db) and the worker (session_scope)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from app.core.db.liveness import check_idle_connections
from app.core.settings import get_settings


def sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 whatever the scheme the user wrote."""
    for prefix in ("postgresql+psycopg2://", "postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# As many kept connections as the API runs sync routes at once (anyio's 40 worker threads):
# with fewer, under load the overflow ones are closed and reopened (a new backend and a SCRAM
# handshake each) for a third of all requests. Uploads and downloads hold a connection only
# while they talk to Postgres, never while bytes travel to or from a client.
POOL_SIZE = 40
POOL_OVERFLOW = 10


@lru_cache
def get_engine() -> Engine:
    url = get_settings().database_url
    if not url:
        raise RuntimeError("DATABASE_URL is not set; start Shears with `make run`, which sets it")
    engine = create_engine(sqlalchemy_url(url), pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    check_idle_connections(engine)
    return engine


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@lru_cache(maxsize=1)  # keyed by the engine, so it follows get_engine's cache being reset
def read_sessionmaker_for(engine: Engine) -> sessionmaker[Session]:
    """Sessions for requests that only read: autocommit, so no BEGIN and COMMIT round trips
    (each statement sees committed data, as in a transaction of its own)."""
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return sessionmaker(bind=autocommit, expire_on_commit=False)


def get_db() -> Iterator[Session]:
    with get_sessionmaker()() as session:
        yield session


async def get_read_db() -> AsyncIterator[Session]:
    """Async, so FastAPI runs it in the event loop rather than in two thread-pool hops: making a
    session does no I/O, and closing an autocommit one sends nothing (there is no transaction)."""
    with read_sessionmaker_for(get_engine())() as session:
        yield session


@contextmanager
def session_scope() -> Iterator[Session]:
    """A transaction for worker code: committed on success, rolled back on error."""
    with get_sessionmaker()() as session, session.begin():
        yield session
