"""A job's events: Postgres holds every one (the truth), a Redis Stream carries them live.

Each event gets the job's next sequence number. It is written to `job_events` inside the
caller's transaction, and after the commit it is added to the job's stream with the explicit
stream id `0-<seq>`. The SSE id is that seq, so `Last-Event-ID` means the same thing whether the
events come from Redis or, after Redis has forgotten them, from Postgres.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.core.db.models import Job, JobEvent

log = logging.getLogger(__name__)

EVENT_TYPES = ("status", "progress", "metrics", "error")


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    data: dict[str, Any]

    def to_fields(self) -> dict[str, str]:
        return {"type": self.type, "data": json.dumps(self.data, separators=(",", ":"))}

    @classmethod
    def from_stream_entry(cls, entry_id: bytes | str, fields: dict[Any, Any]) -> Event:
        entry = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        decoded = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in fields.items()
        }
        return cls(int(entry.split("-")[1]), decoded["type"], json.loads(decoded["data"]))

    @property
    def is_terminal(self) -> bool:
        return self.type == "status" and self.data.get("status") in (
            "succeeded",
            "failed",
            "cancelled",
        )


def stream_key(job_id: str) -> str:
    return f"shears:jobs:{job_id}:events"


def record_event(
    session: Session, job_id: str, type_: str, data: dict[str, Any], store: bool = True
) -> Event:
    """Give the event the job's next seq and add it to the caller's transaction. With
    store=False it only gets its seq: it goes to the live stream, not to the kept history."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    seq = session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(event_seq=Job.event_seq + 1)
        .returning(Job.event_seq)
    ).scalar_one()
    if store:
        session.add(JobEvent(job_id=job_id, seq=seq, type=type_, data=data))
    return Event(seq, type_, data)


def publish(client: redis.Redis, job_id: str, events: list[Event], maxlen: int, ttl: int) -> bool:
    """Add committed events to the live stream. Redis being down loses nothing: Postgres has them.

    False when Redis could not be reached (the caller may offer the events again later; an event
    already in the stream is refused by Redis for its id, so offering it twice is harmless)."""
    if not events:
        return True
    key = stream_key(job_id)
    try:
        pipe = client.pipeline(transaction=False)
        for event in events:
            pipe.xadd(key, event.to_fields(), id=f"0-{event.seq}", maxlen=maxlen, approximate=True)
        pipe.expire(key, ttl)
        pipe.execute(raise_on_error=False)
    except redis.RedisError as exc:
        log.warning("could not publish events of job %s to Redis: %s", job_id, exc)
        return False
    return True


def events_after(
    session: Session, job_id: str, after_seq: int, limit: int = 1000, before_seq: int | None = None
) -> list[Event]:
    query = select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.seq > after_seq)
    if before_seq is not None:
        query = query.where(JobEvent.seq < before_seq)
    rows = session.scalars(query.order_by(JobEvent.seq).limit(limit))
    return [Event(row.seq, row.type, row.data) for row in rows]


def read_stream(client: redis.Redis, job_id: str, after_seq: int, block_ms: int) -> list[Event]:
    """Events after `after_seq` from the live stream, waiting up to block_ms for the first one."""
    reply = client.xread({stream_key(job_id): f"0-{after_seq}"}, block=block_ms, count=500)
    events: list[Event] = []
    for _key, entries in reply or []:
        events.extend(Event.from_stream_entry(entry_id, fields) for entry_id, fields in entries)
    return events
