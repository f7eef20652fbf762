"""A job's events as Server-Sent Events: what the client missed from Postgres, then the live
Redis Stream, with Postgres filling any gap and standing in while Redis is down."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator

import anyio
import redis
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from app.api.job_feeds import REDIS_RETRY_SECONDS, JobFeed, subscribe, unsubscribe
from app.core.db.models import TERMINAL_STATUSES, Job
from app.core.db.session import get_sessionmaker
from app.core.events import Event, events_after

log = logging.getLogger(__name__)

WAIT_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
# Catches events that were committed while Redis was unreachable, so never published.
POSTGRES_RECHECK_SECONDS = 5.0
POLL_SECONDS = 1.0
# How long events that Postgres showed first wait for the live stream to reach them: progress
# events the history does not keep come only from the stream, published before any later event
# was committed, so the stream has them unless Redis lost them.
CATCH_UP_SECONDS = 1.0


def format_event(event: Event) -> str:
    data = json.dumps(event.data, separators=(",", ":"))
    return f"id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n"


class JobEventTail:
    def __init__(self, job_id: str, last_seq: int) -> None:
        self.job_id = job_id
        self.last_seq = last_seq
        self.job_finished = False
        self.feed: JobFeed | None = None  # joined once the history is sent
        self.redis_down_until = 0.0
        self.last_postgres_check = 0.0
        self.last_sent = time.monotonic()

    async def messages(self) -> AsyncIterator[str]:
        batch = await self._from_postgres()
        while True:
            for event in batch:
                if event.seq <= self.last_seq:
                    continue
                # Every event, not only a batch's first: Redis may lack any one of them.
                while event.seq > self.last_seq + 1 and (missed := await self._gap(event.seq)):
                    for old in missed:
                        yield self._sent(old)
                        if old.is_terminal:
                            return
                yield self._sent(event)
                if event.is_terminal:
                    return
            # Finished in Postgres with nothing left to send (a terminal event was already sent
            # before the client's Last-Event-ID).
            if self.job_finished:
                return
            batch = await self._next_batch()
            if not batch and time.monotonic() - self.last_sent >= KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                self.last_sent = time.monotonic()

    def _sent(self, event: Event) -> str:
        self.last_seq, self.last_sent = event.seq, time.monotonic()
        return format_event(event)

    async def _gap(self, before_seq: int) -> list[Event]:
        """What Postgres holds between the last event sent and `before_seq` (possibly nothing:
        progress events in between may have been thinned out of the history)."""
        return await run_in_threadpool(self._query_gap, self.last_seq, before_seq)

    def _query_gap(self, after_seq: int, before_seq: int) -> list[Event]:
        with get_sessionmaker()() as session:
            return events_after(session, self.job_id, after_seq, before_seq=before_seq)

    def close(self) -> None:
        if self.feed is not None:
            unsubscribe(self.feed)

    async def _next_batch(self) -> list[Event]:
        now = time.monotonic()
        if now < self.redis_down_until:
            await anyio.sleep(POLL_SECONDS)
            return await self._from_postgres()
        if now - self.last_postgres_check >= POSTGRES_RECHECK_SECONDS:
            events = await self._from_postgres()
            if events or self.job_finished:
                return await self._with_live(events)
        try:
            events = await self._from_redis()
        except redis.RedisError as exc:
            log.warning("SSE for job %s falls back to Postgres: %s", self.job_id, exc)
            self.redis_down_until = now + REDIS_RETRY_SECONDS
            return []
        return events

    async def _with_live(self, kept: list[Event]) -> list[Event]:
        """Postgres's events with the stream's up to the newest of them, in seq order: a gap
        between two kept events is filled from the stream, not jumped over."""
        if not kept or self.feed is None:
            return kept
        live = await self.feed.events_through(self.last_seq, kept[-1].seq, CATCH_UP_SECONDS)
        by_seq = {event.seq: event for event in [*kept, *live]}
        return [by_seq[seq] for seq in sorted(by_seq)]

    async def _from_redis(self) -> list[Event]:
        if self.feed is None:
            self.feed = subscribe(self.job_id, self.last_seq)
        return await self.feed.events_after(self.last_seq, WAIT_SECONDS)

    async def _from_postgres(self) -> list[Event]:
        events, finished = await run_in_threadpool(self._query_postgres, self.last_seq)
        self.last_postgres_check = time.monotonic()
        self.job_finished = finished and not events
        return events

    def _query_postgres(self, after_seq: int) -> tuple[list[Event], bool]:
        with get_sessionmaker()() as session:
            events = events_after(session, self.job_id, after_seq)
            status = session.scalar(select(Job.status).where(Job.id == self.job_id))
        return events, status in TERMINAL_STATUSES


async def job_event_stream(job_id: str, last_seq: int) -> AsyncIterator[str]:
    """SSE messages from after `last_seq` until the job's terminal status event."""
    tail = JobEventTail(job_id, last_seq)
    try:
        async for message in tail.messages():
            yield message
    except SQLAlchemyError as exc:
        # The response has started, so no 503: end the stream; clients resume by Last-Event-ID.
        log.warning("SSE for job %s ends, Postgres is unavailable: %s", job_id, exc)
    finally:
        tail.close()
