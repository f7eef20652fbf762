"""Server-Sent Events: a line parser (the WHATWG rules we need) and a reader that reconnects
with `Last-Event-ID` until it sees the final event."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import httpx

from shears_client.errors import ShearsApiError, ShearsError

# Statuses worth retrying when reconnecting: a proxy or the API restarting.
RETRYABLE_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: str
    id: str | None = None

    def json(self) -> Any:
        return json.loads(self.data) if self.data else None


class SseParser:
    """Feed lines (without their line ending); get an event at each blank line that ends one."""

    def __init__(self) -> None:
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> SseEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment, such as a keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def discard_partial(self) -> None:
        """Forget a half-received event (its connection dropped); keep the last id and retry."""
        self._event, self._data = "", []

    def _dispatch(self) -> SseEvent | None:
        event, data = self._event or "message", self._data
        self._event, self._data = "", []
        if not data:
            return None
        return SseEvent(event=event, data="\n".join(data), id=self.last_event_id)


def parse_sse(lines: Iterable[str], parser: SseParser | None = None) -> Iterator[SseEvent]:
    parser = parser or SseParser()
    for line in lines:
        event = parser.feed(line.rstrip("\r\n"))
        if event is not None:
            yield event


# Given the Last-Event-ID to resume from (None: from the start), open the stream's lines.
StreamOpener = Callable[[str | None], AbstractContextManager[Iterable[str]]]


class ResumingEventStream:
    """Iterate events across dropped connections, resuming after the last event id seen.

    Stops after the event for which `is_final` is true. Gives up after `max_failures` failed
    connections in a row with no event in between; a read timeout (the server being silent,
    e.g. while a job waits in the queue) reconnects without counting as a failure.
    """

    def __init__(
        self,
        open_stream: StreamOpener,
        is_final: Callable[[SseEvent], bool],
        max_failures: int = 5,
        retry_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.open_stream = open_stream
        self.is_final = is_final
        self.max_failures = max_failures
        self.retry_seconds = retry_seconds
        self.sleep = sleep
        self.parser = SseParser()
        self.reconnects = 0

    def __iter__(self) -> Iterator[SseEvent]:
        failures = 0
        while True:
            counts_as_failure = True
            try:
                with self.open_stream(self.parser.last_event_id) as lines:
                    for event in parse_sse(lines, self.parser):
                        failures = 0
                        yield event
                        if self.is_final(event):
                            return
                reason = "the server closed the stream before the job finished"
            except httpx.ReadTimeout:
                counts_as_failure = False
                reason = "no event for a while"
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            except ShearsApiError as exc:
                if exc.status not in RETRYABLE_STATUSES:
                    raise
                reason = exc.one_line()
            failures += counts_as_failure
            if failures > self.max_failures:
                raise ShearsError(
                    "stream_lost",
                    f"lost the event stream {failures} times in a row ({reason}); "
                    "check the service and watch again",
                )
            self.parser.discard_partial()
            self.reconnects += 1
            retry_ms = self.parser.retry_ms
            self.sleep(retry_ms / 1000 if retry_ms is not None else self.retry_seconds)
