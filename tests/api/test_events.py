"""GET /v1/jobs/{id}/events: what the client missed, then live events, until the terminal one."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from app.api import sse
from app.core.db.session import session_scope
from app.core.events import Event, record_event, stream_key
from tests.api.conftest import assert_error, submit
from tests.api.job_states import PROGRESS, events_of, mark_running, mark_succeeded


def read_sse(lines: Iterator[str], seen: list[dict[str, Any]]) -> None:
    """Append each message ({id, event, data} or {comment}) to `seen` as it arrives."""
    message: dict[str, Any] = {}
    for line in lines:
        if line.startswith(":"):
            seen.append({"comment": line[1:].strip()})
        elif line == "":
            if message:
                seen.append(message)
            message = {}
        else:
            field, _, value = line.partition(": ")
            message[field] = json.loads(value) if field == "data" else value


def stream_events(
    client: TestClient | httpx.Client, job_id: str, seen: list | None = None, **kwargs: Any
) -> list[dict[str, Any]]:
    seen = [] if seen is None else seen
    with client.stream("GET", f"/v1/jobs/{job_id}/events", **kwargs) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        read_sse(response.iter_lines(), seen)
    return seen


class LiveListener:
    """An SSE client in a thread, reading a real server's stream as a browser would."""

    def __init__(self, live_url: str, client: TestClient, job_id: str) -> None:
        self.seen: list[dict[str, Any]] = []
        http = httpx.Client(base_url=live_url, headers=client.headers, timeout=30)
        self.thread = threading.Thread(
            target=stream_events, args=(http, job_id, self.seen), daemon=True
        )
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and self.thread.is_alive():
            assert time.monotonic() < deadline, f"only {self.seen} after {timeout}s"
            time.sleep(0.05)

    @property
    def events(self) -> list[dict[str, Any]]:
        return [m for m in self.seen if "event" in m]

    def join(self, timeout: float = 15.0) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the stream did not end: {self.seen}"


@pytest.fixture
def job_id(client: TestClient, model_id: str, dataset_id: str) -> str:
    return submit(client, model_id, dataset_id).json()["id"]


QUEUED = {"id": "1", "event": "status", "data": {"status": "queued"}}
CANCELLED = {"id": "2", "event": "status", "data": {"status": "cancelled"}}


def test_a_late_client_gets_the_history_and_the_stream_ends(
    client: TestClient, job_id: str
) -> None:
    client.post(f"/v1/jobs/{job_id}/cancel")
    assert stream_events(client, job_id) == [QUEUED, CANCELLED]


def test_a_live_client_sees_the_cancel_and_the_stream_ends(
    live_url: str, client: TestClient, job_id: str
) -> None:
    listener = LiveListener(live_url, client, job_id)
    listener.wait_for(1)
    assert listener.events == [QUEUED]
    assert listener.thread.is_alive()
    client.post(f"/v1/jobs/{job_id}/cancel")
    listener.join()
    assert listener.events == [QUEUED, CANCELLED]


def test_last_event_id_resumes(client: TestClient, job_id: str) -> None:
    client.post(f"/v1/jobs/{job_id}/cancel")
    assert stream_events(client, job_id, headers={"Last-Event-ID": "1"}) == [CANCELLED]
    assert stream_events(client, job_id, params={"after": 1}) == [CANCELLED]
    assert stream_events(client, job_id, headers={"Last-Event-ID": "2"}) == []
    assert_error(
        client.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "abc"}),
        400,
        "bad_last_event_id",
    )


def test_postgres_answers_when_redis_has_forgotten(
    client: TestClient, job_id: str, redis_url: str
) -> None:
    client.post(f"/v1/jobs/{job_id}/cancel")
    redis.Redis.from_url(redis_url).delete(stream_key(job_id))
    assert stream_events(client, job_id) == [QUEUED, CANCELLED]


def test_events_never_published_to_redis_still_arrive(
    live_url: str, client: TestClient, job_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sse, "POSTGRES_RECHECK_SECONDS", 0.5)
    monkeypatch.setattr(sse, "KEEPALIVE_SECONDS", 0.2)
    listener = LiveListener(live_url, client, job_id)
    listener.wait_for(1)
    mark_running(job_id)  # written to Postgres only, as if Redis had been down
    mark_succeeded(job_id, {}, {"pruned": {"accuracy": 0.5}})
    listener.join()
    assert [(m["id"], m["event"], m["data"]) for m in listener.events] == [
        ("1", "status", {"status": "queued"}),
        ("2", "status", {"status": "running"}),
        ("3", "metrics", {"pruned": {"accuracy": 0.5}}),
        ("4", "status", {"status": "succeeded"}),
    ]
    assert {"comment": "keep-alive"} in listener.seen


def test_many_listeners_do_not_hold_database_connections(
    live_url: str, client: TestClient, job_id: str
) -> None:
    # More listeners than the connection pool holds (10 + 20 overflow).
    listeners = [LiveListener(live_url, client, job_id) for _ in range(40)]
    for listener in listeners:
        listener.wait_for(1)
    assert client.get(f"/v1/jobs/{job_id}").status_code == 200
    client.post(f"/v1/jobs/{job_id}/cancel")
    for listener in listeners:
        listener.join()
        assert listener.events == [QUEUED, CANCELLED]


def test_an_event_missing_inside_a_redis_batch_is_filled_from_postgres(
    live_url: str, client: TestClient, job_id: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sse, "POSTGRES_RECHECK_SECONDS", 600.0)  # only the gap check may help
    listener = LiveListener(live_url, client, job_id)
    listener.wait_for(1)
    mark_running(job_id, PROGRESS)  # seq 2 (running) and 3 (progress)
    mark_succeeded(job_id, {}, {"pruned": {"accuracy": 0.5}})  # seq 4 and 5
    history = dict(enumerate(events_of(job_id), start=1))
    # Redis got all but seq 3, in one batch whose first event follows the last one sent.
    pipe = redis.Redis.from_url(redis_url).pipeline(transaction=True)
    for seq in (2, 4, 5):
        type_, data = history[seq]
        pipe.xadd(stream_key(job_id), Event(seq, type_, data).to_fields(), id=f"0-{seq}")
    pipe.execute()
    listener.join()
    assert [(m["id"], m["event"]) for m in listener.events] == [
        ("1", "status"),
        ("2", "status"),
        ("3", "progress"),
        ("4", "metrics"),
        ("5", "status"),
    ]
    assert listener.events[2]["data"]["step"] == PROGRESS["step"]


def test_replay_and_last_event_id_work_across_thinned_progress(
    client: TestClient, job_id: str
) -> None:
    mark_running(job_id)  # seq 2
    with session_scope() as session:
        for step in range(1, 6):  # seq 3..7; only steps 1 and 5 kept in the history
            record_event(session, job_id, "progress", {**PROGRESS, "step": step}, step in (1, 5))
    mark_succeeded(job_id, {}, {"pruned": {"accuracy": 0.5}})  # seq 8, 9
    replay = stream_events(client, job_id)
    assert [m["id"] for m in replay] == ["1", "2", "3", "7", "8", "9"]
    resumed = stream_events(client, job_id, headers={"Last-Event-ID": "5"})  # a thinned one
    assert [(m["id"], m["event"]) for m in resumed] == [
        ("7", "progress"),
        ("8", "metrics"),
        ("9", "status"),
    ]
