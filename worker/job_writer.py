"""Transactions on one job whose events reach the live stream once (and only if) committed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Protocol

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import Session

from app.core.db.session import session_scope
from app.core.events import Event, publish, record_event
from app.core.settings import Settings

# After Redis failed, events only queue up for this long before the next try, so a Redis that is
# down costs the supervisor one connect timeout now and then, not one per event.
REDIS_RETRY_SECONDS = 5.0


@lru_cache
def worker_redis(url: str) -> redis.Redis:
    """A client that fails fast: unpublished events are offered again later anyway."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 0)
    )


class RecordEvent(Protocol):
    def __call__(self, type_: str, data: dict[str, Any], store: bool = True) -> Event: ...


class JobWriter:
    """Events that could not be published (Redis down or restarting) are kept and offered
    again with the next ones, so the stream has no holes once Redis is back."""

    def __init__(self, job_id: str, redis_client: redis.Redis, settings: Settings) -> None:
        self.job_id = job_id
        self.redis = redis_client
        self.settings = settings
        self._unpublished: list[Event] = []
        self._retry_at = 0.0

    @contextmanager
    def transaction(self) -> Iterator[tuple[Session, RecordEvent]]:
        events: list[Event] = []

        def record(type_: str, data: dict[str, Any], store: bool = True) -> Event:
            event = record_event(session, self.job_id, type_, data, store)
            events.append(event)
            return event

        with session_scope() as session:
            yield session, record
        self.publish(events, force=any(event.is_terminal for event in events))

    def publish(self, events: list[Event], force: bool = False) -> None:
        self._unpublished.extend(events)
        if not self._unpublished or (time.monotonic() < self._retry_at and not force):
            return
        settings = self.settings
        if publish(
            self.redis,
            self.job_id,
            self._unpublished,
            settings.stream_maxlen,
            settings.stream_ttl_seconds,
        ):
            self._unpublished.clear()
        else:
            self._retry_at = time.monotonic() + REDIS_RETRY_SECONDS
