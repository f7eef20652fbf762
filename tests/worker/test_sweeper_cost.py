"""A sweeper pass costs the same with 10 or 10,000 jobs waiting in the queue: it counts the SQL
statements and Redis commands of one pass, on the real servers, with a real backlog."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import delete, event, insert

from app.core.db.models import Job, Tenant, new_id, utcnow
from app.core.db.session import get_engine, session_scope
from app.core.queue import GPU_QUEUE
from app.core.settings import Settings
from worker.sweeper import EPOCH_KEY, sweep

UNSENT = 3  # stale jobs that really need a message, in every backlog


class CountingRedis(redis.Redis):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: list[str] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(str(args[0]))
        return super().execute_command(*args, **options)


@pytest.fixture
def backlog(postgres_url: str, redis_url: str) -> Iterator[Callable[[int], list[str]]]:
    """backlog(n): n queued jobs, an hour old, whose messages wait in the queue (in Redis db 9),
    plus UNSENT stale jobs with no message; returns the unsent ones' ids."""
    client = redis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/9")
    tenants: list[str] = []

    def make(waiting: int) -> list[str]:
        client.flushdb()
        client.set(EPOCH_KEY, "test")
        long_ago = utcnow() - timedelta(hours=1)
        with session_scope() as session:
            tenant = Tenant(name=f"backlog-{new_id('t')}")
            session.add(tenant)
            session.flush()
            tenants.append(tenant.id)
            rows = [
                {
                    "id": new_id("job"),
                    "tenant_id": tenant.id,
                    "status": "queued",
                    "hparams": {},
                    "training": {},
                    "warnings": [],
                    "updated_at": long_ago,
                    "enqueued_at": long_ago if i < waiting else None,
                }
                for i in range(waiting + UNSENT)
            ]
            session.execute(insert(Job), rows)
        messages = [json.dumps({"body": "", "headers": {"id": row["id"]}}) for row in rows]
        for start in range(0, waiting, 1000):
            client.lpush(GPU_QUEUE, *messages[start : start + 1000])
        return [row["id"] for row in rows[waiting:]]

    yield make
    client.flushdb()
    client.close()
    with session_scope() as session:
        session.execute(delete(Tenant).where(Tenant.id.in_(tenants)))


def one_pass(settings: Settings, redis_url: str) -> tuple[list[str], list[str], list[str]]:
    """(jobs sent, SQL statements, Redis commands) of one sweep."""
    client = CountingRedis.from_url(redis_url.rsplit("/", 1)[0] + "/9")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split()[0])

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        sent: list[str] = []
        sweep(settings, client, lambda job_id: sent.append(job_id) or True, lambda *_: None)
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
        client.close()
    return sent, statements, client.commands


def test_a_pass_costs_the_same_with_10_or_10000_jobs_waiting(
    backlog: Callable[[int], list[str]],
    worker_settings: Callable[..., Settings],
    redis_url: str,
) -> None:
    # Only jobs older than the backlog's hour are due, so other tests' jobs stay out of it.
    settings = worker_settings(requeue_after_seconds=1800, heartbeat_timeout_seconds=1800)
    costs = {}
    for waiting in (10, 10_000):
        unsent = backlog(waiting)
        sent, statements, commands = one_pass(settings, redis_url)
        assert sorted(sent) == sorted(unsent)  # the unsent jobs, and none of the waiting ones
        costs[waiting] = (statements, commands)
    assert costs[10] == costs[10_000]
    statements, commands = costs[10_000]
    assert len(statements) <= 4 + UNSENT  # lock, two selects, an update per job sent
    # The epoch check and the unacked set (a message per worker); the queue is never read.
    assert commands == ["SET", "ZRANGE"]
