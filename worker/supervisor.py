"""Watching one running trainer: its progress lines, the cancel flag, the time and memory limits."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from app.core.settings import Settings
from worker import job_state
from worker.job_writer import JobWriter
from worker.trainer_lines import (
    MAX_LINE_CHARS,
    IntervalGate,
    ProgressSampler,
    parse_trainer_line,
    progress_record,
    warnings_of,
)
from worker.trainer_process import TrainerProcess

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5.0
LIMIT_CHECK_SECONDS = 0.25


@dataclass
class Outcome:
    """succeeded | failed (code, message) | crashed (message: retry) | cancelled | lost."""

    kind: str
    code: str = ""
    message: str = ""
    metrics_line: dict[str, Any] = field(default_factory=dict)


def out_of_memory_message(peak: int, settings: Settings) -> str:
    limit = settings.trainer_memory_limit_bytes
    return (
        f"the trainer used {peak / 2**20:.0f} MiB, over its limit of {limit / 2**20:.0f} MiB "
        f"({limit} bytes); use a smaller training batch_size or a smaller model, or raise "
        "TRAINER_MEMORY_LIMIT_BYTES"
    )


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        return f"signal {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


class Supervisor:
    def __init__(
        self,
        trainer: TrainerProcess,
        writer: JobWriter,
        attempt: int,
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.trainer, self.writer, self.attempt, self.settings = trainer, writer, attempt, settings
        self.clock = clock
        self.deadline = clock() + settings.job_time_limit_seconds
        self.progress_due = IntervalGate(settings.progress_db_interval_seconds, clock)
        self.heartbeat_due = IntervalGate(settings.cancel_poll_seconds, clock)
        self.limits_due = IntervalGate(LIMIT_CHECK_SECONDS, clock)
        self.pending_progress: dict[str, Any] | None = None
        self.keep_pending = False  # a progress line since the last save belongs in the history
        self.sampler = ProgressSampler()
        self.error_line: dict[str, Any] | None = None
        self.metrics_line: dict[str, Any] = {}
        self.job_state = "run"

    def run(self) -> Outcome:
        stdout_open = True
        while stdout_open or self.trainer.proc.poll() is None:
            line = self.trainer.next_line(timeout=LIMIT_CHECK_SECONDS)
            if line == TrainerProcess.EOF:
                stdout_open = False
            elif line:
                self._handle(line)
            stopped = self._check_limits() or self._check_job()
            if stopped is not None:
                return stopped
        if self.pending_progress is not None:
            self._beat()  # the last progress is always saved
        return self._exit_outcome(self.trainer.wait())

    def _handle(self, raw: str) -> None:
        line = parse_trainer_line(raw)
        if line is None:
            return
        if line.event == "progress":
            self.pending_progress = progress_record(line.data)
            # A sampled line is saved at once, so the kept history is the sampler's choice
            # whatever the line rate; the sampler bounds how many such writes a job makes.
            sampled = self.sampler.keep(line.data)
            self.keep_pending = sampled or self.keep_pending
            if sampled or self.progress_due.due():
                self.job_state = self._beat()
        elif line.event == "started" and warnings_of(line.data):
            try:
                job_state.add_warnings(self.writer, self.attempt, warnings_of(line.data))
            except SQLAlchemyError as exc:
                log.warning("job %s: could not save warnings: %s", self.writer.job_id, exc)
        elif line.event == "metrics":
            self.metrics_line = line.data
        elif line.event == "error":
            self.error_line = line.data

    def _check_limits(self) -> Outcome | None:
        if not self.limits_due.due():
            return None
        if self.trainer.flooded:
            self.trainer.kill()
            return Outcome(
                "failed",
                "trainer_output_flood",
                f"the trainer printed a line longer than {MAX_LINE_CHARS} characters to stdout",
            )
        if self.clock() > self.deadline:
            self.trainer.stop(STOP_GRACE_SECONDS)
            limit = self.settings.job_time_limit_seconds
            return Outcome("failed", "time_limit_exceeded", f"the job ran past its {limit}s limit")
        peak = self.trainer.resident_bytes()
        if peak > self.trainer.limits.memory_bytes:
            self.trainer.kill()
            # Another attempt would need the same memory: fail now, never retry.
            return Outcome("failed", "out_of_memory", out_of_memory_message(peak, self.settings))
        return None

    def _check_job(self) -> Outcome | None:
        if self.heartbeat_due.due():
            self.job_state = self._beat()
        if self.job_state == "run":
            return None
        self.trainer.stop(STOP_GRACE_SECONDS)
        return Outcome("cancelled" if self.job_state == "cancel" else "lost")

    def _beat(self) -> str:
        """Heartbeat plus the pending progress, if any: "run", "cancel" or "lost"."""
        try:
            state = job_state.heartbeat(
                self.writer, self.attempt, self.pending_progress, self.keep_pending
            )
        except SQLAlchemyError as exc:  # Postgres away for a moment: the trainer keeps going
            log.warning("job %s: could not save progress: %s", self.writer.job_id, exc)
            return "run"
        self.pending_progress, self.keep_pending = None, False
        return state

    def _exit_outcome(self, returncode: int) -> Outcome:
        if self.error_line is not None:
            code = str(self.error_line.get("code") or "trainer_error")
            return Outcome("failed", code, str(self.error_line.get("message", "")))
        if returncode != 0:
            tail = self.trainer.stderr_tail(800)
            message = f"the trainer stopped with {describe_exit(returncode)}"
            return Outcome("crashed", "trainer_crashed", f"{message}: {tail}" if tail else message)
        return Outcome("succeeded", metrics_line=self.metrics_line)
