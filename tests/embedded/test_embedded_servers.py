"""The embedded Postgres and Redis: data and URL survive a restart and a kill -9; no password,
no entry."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.devserver.embedded import EmbeddedPostgres, EmbeddedRedis, start_postgres, start_redis
from tests.processes import has_exited


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="shears-embedded-"))
    path.chmod(0o755)  # reachable by the unprivileged user Postgres runs as under root
    yield path
    EmbeddedPostgres(path / "postgres").stop()
    EmbeddedRedis(path / "redis").stop()
    shutil.rmtree(path, ignore_errors=True)


def test_postgres_keeps_data_and_url_across_restart_and_kill(root: Path) -> None:
    server = start_postgres(root / "postgres")
    url = server.url
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE kept (value text)")
        conn.execute("INSERT INTO kept VALUES ('before')")
    assert server.restart() == url
    process = server.running_process()
    assert process is not None
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    assert start_postgres(root / "postgres").url == url  # stale postmaster.pid handled
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT value FROM kept").fetchall() == [("before",)]


def test_postgres_refuses_a_client_without_the_password(root: Path) -> None:
    server = start_postgres(root / "postgres")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{server.port}/shears").close()


def test_a_second_start_adopts_the_running_server(root: Path) -> None:
    first = start_postgres(root / "postgres").running_process()
    second = start_postgres(root / "postgres").running_process()
    assert first is not None and second is not None and first.pid == second.pid


def test_redis_keeps_data_and_url_across_restart_and_kill(root: Path) -> None:
    server = start_redis(root / "redis")
    url = server.url
    client = redis.Redis.from_url(url)
    client.rpush("queue", "message")
    client.close()
    assert server.restart() == url
    process = server.running_process()
    assert process is not None
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    assert start_redis(root / "redis").url == url
    assert redis.Redis.from_url(url).lrange("queue", 0, -1) == [b"message"]


def test_redis_refuses_a_client_without_the_password(root: Path) -> None:
    server = start_redis(root / "redis")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=server.port, retry=Retry(NoBackoff(), 0)).ping()


def test_stop_leaves_no_server_running(root: Path) -> None:
    postgres, redis_server = start_postgres(root / "postgres"), start_redis(root / "redis")
    processes = [postgres.running_process(), redis_server.running_process()]
    postgres.stop()
    redis_server.stop()
    for process in processes:
        assert process is not None and has_exited(process)
