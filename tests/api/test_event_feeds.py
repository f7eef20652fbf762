"""Many SSE listeners on one job: one Redis reader serves them all, and each gets every event."""

from __future__ import annotations

import time

import pytest
import redis
from fastapi.testclient import TestClient

from app.api import sse
from app.core.db.session import session_scope
from app.core.events import Event, publish, record_event
from tests.api.conftest import submit
from tests.api.job_states import PROGRESS, events_of, mark_running, mark_succeeded
from tests.api.test_events import LiveListener

LISTENERS = 30
PROGRESS_EVENTS = 20


def blocked_redis_readers(client: redis.Redis) -> int:
    return int(client.info("clients")["blocked_clients"])


def test_listeners_share_one_redis_reader_and_none_misses_an_event(
    live_url: str,
    client: TestClient,
    model_id: str,
    dataset_id: str,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sse, "POSTGRES_RECHECK_SECONDS", 600.0)  # live events come from Redis
    job_id = submit(client, model_id, dataset_id).json()["id"]
    listeners = [LiveListener(live_url, client, job_id) for _ in range(LISTENERS)]
    for listener in listeners:
        listener.wait_for(1)
    time.sleep(2.0)  # every listener has sent the history and waits on the live stream
    server = redis.Redis.from_url(redis_url)
    assert blocked_redis_readers(server) == 1

    mark_running(job_id)
    with session_scope() as session:
        for step in range(1, PROGRESS_EVENTS + 1):
            record_event(session, job_id, "progress", {**PROGRESS, "step": step})
    mark_succeeded(job_id, {}, {"pruned": {"accuracy": 0.5}})
    history = events_of(job_id)
    for seq, (type_, data) in enumerate(history[1:], start=2):  # one XADD at a time
        publish(server, job_id, [Event(seq, type_, data)], maxlen=1000, ttl=600)

    expected = [str(seq) for seq in range(1, len(history) + 1)]
    for listener in listeners:
        listener.join()
        assert [message["id"] for message in listener.events] == expected
        assert listener.events[-1]["data"] == {"status": "succeeded"}
    assert blocked_redis_readers(server) == 0
