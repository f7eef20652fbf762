"""Session fixtures: real Postgres and Redis servers (the embedded ones) in a temporary directory.

Requesting `postgres_url` or `redis_url` starts the server once per session, points the
settings (DATABASE_URL / REDIS_URL) at it and, for Postgres, migrates the schema to head.
Tests that restart a server mid-job use `embedded_postgres` / `embedded_redis` directly.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.db.migrate import upgrade_to_head
from app.core.db.session import get_engine, get_sessionmaker
from app.core.settings import get_settings
from app.devserver.embedded import EmbeddedPostgres, EmbeddedRedis, start_postgres, start_redis


def reset_settings_caches() -> None:
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def servers_root() -> Iterator[Path]:
    # Not pytest's tmp_path: that is private to the current user, and as root the embedded
    # Postgres runs as an unprivileged user that must reach its data directory.
    root = Path(tempfile.mkdtemp(prefix="shears-test-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def data_dir(servers_root: Path) -> Iterator[Path]:
    """Keep scratch space and dev keys out of the repository."""
    path = servers_root / "data"
    path.mkdir()
    previous = os.environ.get("DATA_DIR")
    os.environ["DATA_DIR"] = str(path)
    get_settings.cache_clear()
    yield path
    _restore_env("DATA_DIR", previous)
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def embedded_postgres(servers_root: Path) -> Iterator[EmbeddedPostgres]:
    server = start_postgres(servers_root / "postgres")
    yield server
    reset_settings_caches()
    server.stop()


@pytest.fixture(scope="session")
def embedded_redis(servers_root: Path) -> Iterator[EmbeddedRedis]:
    server = start_redis(servers_root / "redis")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(embedded_postgres: EmbeddedPostgres) -> Iterator[str]:
    url = embedded_postgres.url
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    reset_settings_caches()
    upgrade_to_head(url)
    yield url
    _restore_env("DATABASE_URL", previous)
    reset_settings_caches()


@pytest.fixture(scope="session")
def redis_url(embedded_redis: EmbeddedRedis) -> Iterator[str]:
    url = embedded_redis.url
    previous = os.environ.get("REDIS_URL")
    os.environ["REDIS_URL"] = url
    reset_settings_caches()
    yield url
    _restore_env("REDIS_URL", previous)
    reset_settings_caches()


def _restore_env(name: str, previous: str | None) -> None:
    if previous is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = previous
