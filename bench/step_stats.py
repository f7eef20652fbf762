"""Per-step wall times of training runs that take turns on the CPU.

A run records, for every step, the wall time from the end of the previous step (or from the
moment it got the CPU back) to the end of this one: the input pipeline, the compiled step,
callbacks, and a mask update when one falls there. Every `chunk` steps it hands the CPU back
(`pause`) so that several runs, each in its own process, alternate in short turns and drift
in the machine's load falls on all of them alike.

The median of the step times is the typical (compiled) step; the mean spreads the occasional
mask update over all steps, and so does the median over windows of `pruning_frequency` steps.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

READY = "ready"


def hand_back() -> None:
    """The child's side of a turn: say the chunk is done, wait until told to go on."""
    print(READY, flush=True)
    if not sys.stdin.readline():
        raise SystemExit("the benchmark's coordinator went away")


class PacedSteps:
    """Step times after `warmup` steps, pausing after the warmup and after every `chunk`."""

    def __init__(
        self, warmup: int, chunk: int, chunks: int, pause: Callable[[], None] = hand_back
    ) -> None:
        self.warmup, self.chunk, self.chunks = warmup, chunk, chunks
        self._pause = pause
        self._finished = 0
        self._mark: float | None = None
        self.intervals_ms: list[float] = []

    @property
    def total_steps(self) -> int:
        return self.warmup + self.chunk * self.chunks

    def step_finished(self) -> None:
        now = time.perf_counter()
        self._finished += 1
        measured = self._finished - self.warmup
        if measured > 0 and self._mark is not None:
            self.intervals_ms.append((now - self._mark) * 1000.0)
        self._mark = now
        if measured >= 0 and measured % self.chunk == 0:
            self._pause()
            self._mark = time.perf_counter()


def add_pacing_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warmup", type=int, required=True, help="steps not measured")
    parser.add_argument("--chunk", type=int, required=True, help="steps per turn")
    parser.add_argument("--chunks", type=int, required=True, help="measured turns")


class PacedStep:
    """Wraps a step callable (Shears' TrainStep) to report each finished call."""

    def __init__(self, step: Any, pacer: PacedSteps) -> None:
        self._step, self._pacer = step, pacer

    def __call__(self, *args: Any) -> None:
        self._step(*args)
        self._pacer.step_finished()


def pacing_callback(callback_class: type, pacer: PacedSteps) -> Any:
    """A Keras callback (of `callback_class`: Keras 3's or tf-keras's) reporting batch ends."""

    class PacingCallback(callback_class):  # type: ignore[valid-type, misc]
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            pacer.step_finished()

    return PacingCallback()


def window_means(intervals: list[float], window: int) -> list[float]:
    """Mean step time of each complete run of `window` consecutive steps."""
    full = len(intervals) - len(intervals) % window
    return [statistics.fmean(intervals[i : i + window]) for i in range(0, full, window)]


def summarize(intervals: list[float], window: int) -> dict[str, Any]:
    return {
        "steps": len(intervals),
        "median_ms": round(statistics.median(intervals), 3),
        "mean_ms": round(statistics.fmean(intervals), 3),
        "window_median_ms": round(statistics.median(window_means(intervals, window)), 3)
        if len(intervals) >= window
        else None,
        "p90_ms": round(statistics.quantiles(intervals, n=10)[-1], 3)
        if len(intervals) > 1
        else None,
    }


def paired_ratio(intervals: list[float], baseline: list[float], chunk: int) -> float:
    """Median over turns of (this run's median step / the baseline's) in the same turn: each
    pair ran moments apart, so load that drifts from turn to turn cancels out."""
    turns = min(len(intervals), len(baseline)) // chunk
    ratios = [
        statistics.median(intervals[i * chunk : (i + 1) * chunk])
        / statistics.median(baseline[i * chunk : (i + 1) * chunk])
        for i in range(turns)
    ]
    return round(statistics.median(ratios), 4)
