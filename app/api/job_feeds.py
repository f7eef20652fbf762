"""One Redis reader per job and API process, shared by all of that job's SSE listeners.

Each listener asks its job's feed for the events after the last one it sent; the feed reads the
job's stream with one blocking XREAD at a time and wakes every waiting listener when a batch
arrives. A listener that is further behind than the feed's recent events sees a gap, which it
fills from Postgres as it does for anything Redis lacks.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import cast

import anyio
import redis
import redis.asyncio

from app.api.redis_client import new_async_redis
from app.core.events import Event, stream_key

log = logging.getLogger(__name__)

BLOCK_MS = 1000
BATCH = 500
KEPT_EVENTS = 2 * BATCH
REDIS_RETRY_SECONDS = 5.0

# XREAD's reply: [(stream key, [(entry id, {field: value})])].
StreamReply = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]] | None


class JobFeed:
    def __init__(self, job_id: str, after_seq: int) -> None:
        self.job_id = job_id
        self.read_seq = after_seq
        self.recent: deque[Event] = deque(maxlen=KEPT_EVENTS)
        self.failure: redis.RedisError | None = None
        self.listeners = 0
        self._arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def events_after(self, seq: int, wait_seconds: float) -> list[Event]:
        """The feed's recent events after `seq`, waiting up to `wait_seconds` for some; raises
        the reader's Redis error while Redis is failing."""
        if self.failure is None and not self._has_after(seq):
            arrived = self._arrived
            with anyio.move_on_after(wait_seconds):
                await arrived.wait()
        if self.failure is not None:
            raise self.failure
        return [event for event in self.recent if event.seq > seq]

    async def events_through(
        self, after_seq: int, through_seq: int, wait_seconds: float
    ) -> list[Event]:
        """The feed's recent events after `after_seq` once it has read up to `through_seq`, or
        what it has after `wait_seconds` or while Redis fails (an event Redis never got never
        comes)."""
        with anyio.move_on_after(wait_seconds):
            while self.failure is None and self.read_seq < through_seq:
                await self._arrived.wait()
        return [event for event in self.recent if event.seq > after_seq]

    def _has_after(self, seq: int) -> bool:
        return bool(self.recent) and self.recent[-1].seq > seq

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read(), name=f"job feed {self.job_id}")

    def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()

    async def _read(self) -> None:
        client = new_async_redis()
        try:
            while True:
                try:
                    events = await self._next_batch(client)
                    self.failure = None
                except redis.RedisError as exc:
                    log.warning("the event feed of job %s lost Redis: %s", self.job_id, exc)
                    self.failure = exc
                    self._wake()
                    await anyio.sleep(REDIS_RETRY_SECONDS)
                    continue
                if events:
                    self.recent.extend(events)
                    self.read_seq = events[-1].seq
                    self._wake()
                if any(event.is_terminal for event in events):
                    return
        finally:
            with anyio.CancelScope(shield=True):
                await client.aclose()

    async def _next_batch(self, client: redis.asyncio.Redis) -> list[Event]:
        reply = cast(
            StreamReply,
            await client.xread(
                {stream_key(self.job_id): f"0-{self.read_seq}"}, block=BLOCK_MS, count=BATCH
            ),
        )
        return [
            Event.from_stream_entry(entry_id, fields)
            for _key, entries in reply or []
            for entry_id, fields in entries
        ]

    def _wake(self) -> None:
        self._arrived.set()
        self._arrived = asyncio.Event()


# Per event loop: asyncio objects belong to the loop that made them.
_feeds: dict[tuple[asyncio.AbstractEventLoop, str], JobFeed] = {}


def subscribe(job_id: str, after_seq: int) -> JobFeed:
    """The job's feed, started (reading after `after_seq`) if this listener is its first."""
    key = (asyncio.get_running_loop(), job_id)
    feed = _feeds.get(key)
    if feed is None:
        feed = _feeds[key] = JobFeed(job_id, after_seq)
        feed.start()
    feed.listeners += 1
    return feed


def unsubscribe(feed: JobFeed) -> None:
    """The last listener to leave stops the feed's reader."""
    feed.listeners -= 1
    if feed.listeners == 0:
        _feeds.pop((asyncio.get_running_loop(), feed.job_id), None)
        feed.stop()
