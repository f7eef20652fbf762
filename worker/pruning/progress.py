"""JSON lines on the trainer's stdout: one object per line, written whole and flushed."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from typing import IO, Any


def json_safe(value: Any) -> Any:
    """NaN and infinity are not JSON: a diverged loss is reported as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


class EventStream:
    """Thread-safe writer of events (the SIGTERM watcher writes from another thread)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def emit(self, event: str, *, timeout: float = -1, **fields: Any) -> None:
        """Write one line; with a timeout, give up if another thread holds the stream that long."""
        self.write({"event": event, **fields}, timeout=timeout)

    def write(self, obj: dict[str, Any], *, timeout: float = -1) -> None:
        line = json.dumps(json_safe(obj), allow_nan=False)
        if not self._lock.acquire(timeout=timeout):
            return
        try:
            self._stream.write(line + "\n")
            self._stream.flush()
        finally:
            self._lock.release()


class Throttle:
    """True at most once per `interval` seconds."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._last = clock()

    def due(self) -> bool:
        now = self._clock()
        if now - self._last < self._interval:
            return False
        self._last = now
        return True

    def reset(self) -> None:
        self._last = self._clock()
