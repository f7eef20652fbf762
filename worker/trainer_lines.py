"""What the trainer prints: one JSON object per stdout line, told apart by its "event" field."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TRAINER_EVENTS = ("started", "progress", "metrics", "error")
# The trainer runs uploaded code: what it prints is bounded before it reaches Postgres.
MAX_LINE_CHARS = 1024 * 1024
MAX_WARNINGS, MAX_WARNING_CHARS = 20, 500


@dataclass(frozen=True)
class TrainerLine:
    event: str
    data: dict[str, Any]


def parse_trainer_line(line: str) -> TrainerLine | None:
    """The line as a trainer event, or None for anything else a library printed to stdout."""
    text = line.strip()
    if not text.startswith("{") or len(text) > MAX_LINE_CHARS:
        return None
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("event") not in TRAINER_EVENTS:
        return None
    data = {key: value for key, value in payload.items() if key != "event"}
    return TrainerLine(payload["event"], data)


def warnings_of(data: dict[str, Any]) -> list[str]:
    """The "started" line's warnings as a short list of short strings."""
    warnings = data.get("warnings")
    if not isinstance(warnings, list):
        return []
    return [str(warning)[:MAX_WARNING_CHARS] for warning in warnings[:MAX_WARNINGS]]


def progress_record(data: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """A progress line as Job.progress and the progress event carry it."""
    return {**data, "updated_at": (now or datetime.now(UTC)).isoformat()}


class IntervalGate:
    """`due()` is true at most once per `interval` seconds (and on the first call)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._last: float | None = None

    def due(self) -> bool:
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        return True


class ProgressSampler:
    """Which progress events join a job's kept history: every mask update, the last step, and
    the first of each of SAMPLES equal slices of the steps; so at most SAMPLES plus the mask
    updates, however long the job. The others still reach the live stream."""

    SAMPLES = 100

    def __init__(self) -> None:
        self._last_slice: int | None = None

    def keep(self, progress: dict[str, Any]) -> bool:
        step, total = progress.get("step"), progress.get("total_steps")
        if not isinstance(step, int) or not isinstance(total, int) or total <= 0:
            return self._last_slice is None  # nothing to place: keep only the first
        current = min(step, total) * self.SAMPLES // total
        first_of_slice = current != self._last_slice
        self._last_slice = current
        return bool(progress.get("mask_update")) or step >= total or first_of_slice
