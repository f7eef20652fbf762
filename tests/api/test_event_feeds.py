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


def test_a_live_only_event_is_not_skipped_when_postgres_shows_a_later_one_first(
    live_url: str,
    client: TestClient,
    model_id: str,
    dataset_id: str,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A progress event thinned out of the history reaches a listener whose periodic Postgres
    check already found the next kept event: the listener waits for the stream to catch up."""
    monkeypatch.setattr(sse, "POSTGRES_RECHECK_SECONDS", 0.0)
    monkeypatch.setattr(sse, "CATCH_UP_SECONDS", 10.0)
    server = redis.Redis.from_url(redis_url)
    job_id = submit(client, model_id, dataset_id).json()["id"]
    listener = LiveListener(live_url, client, job_id)
    listener.wait_for(1)
    mark_running(job_id)
    publish(server, job_id, [Event(2, "status", {"status": "running"})], maxlen=1000, ttl=600)
    listener.wait_for(2)
    with session_scope() as session:
        live_only = record_event(session, job_id, "progress", {**PROGRESS, "step": 41}, store=False)
    with session_scope() as session:
        kept = record_event(session, job_id, "progress", {**PROGRESS, "step": 42})
    time.sleep(2.5)  # the listener's Postgres check sees the kept event; the stream has neither
    publish(server, job_id, [live_only, kept], maxlen=1000, ttl=600)
    mark_succeeded(job_id, {}, {"pruned": {"accuracy": 0.5}})
    listener.join()
    assert [message["id"] for message in listener.events] == ["1", "2", "3", "4", "5", "6"]
    assert listener.events[2]["data"]["step"] == 41
