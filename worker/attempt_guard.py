"""What keeps one attempt's claim and scratch folder its own from claim to record: a heartbeat
for the whole attempt (input fetch and packaging too, not only while the trainer runs) and a
lock on the attempt folder, so a later attempt deletes only folders nobody works in."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
from pathlib import Path
from types import TracebackType

from sqlalchemy.exc import SQLAlchemyError

from app.core.settings import Settings
from worker import job_state
from worker.job_writer import JobWriter

log = logging.getLogger(__name__)


def heartbeat_interval(settings: Settings) -> float:
    return max(0.1, settings.heartbeat_timeout_seconds / 4)


class AttemptHeartbeat:
    """A thread writing the attempt's heartbeat until the `with` block ends. It uses its own
    JobWriter (it records no events), so it shares nothing with the attempt's."""

    def __init__(self, writer: JobWriter, attempt: int) -> None:
        self.writer = JobWriter(writer.job_id, writer.redis, writer.settings)
        self.attempt = attempt
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="shears-heartbeat", daemon=True)

    def __enter__(self) -> AttemptHeartbeat:
        self.thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stopped.wait(heartbeat_interval(self.writer.settings)):
            try:
                if job_state.heartbeat(self.writer, self.attempt, None) == "lost":
                    return
            except SQLAlchemyError as exc:
                log.warning("job %s: heartbeat failed: %s", self.writer.job_id, exc)


class AttemptFolder:
    """The attempt's scratch folder, locked (through a lock file beside it, taken before the
    folder exists) and created on enter, removed on exit. Folders of earlier attempts are removed
    only when no live process holds their lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for leftover in self.path.parent.glob("attempt-*"):
            remove_if_abandoned(leftover)
        self._fd = os.open(lock_file(self.path), os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.path.mkdir(mode=0o700)
        return self.path

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            lock_file(self.path).unlink(missing_ok=True)
            os.close(self._fd)
        try:
            self.path.parent.rmdir()
        except OSError:
            pass  # not empty: another attempt's folder


def lock_file(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.lock")


def remove_if_abandoned(folder: Path) -> bool:
    """Remove an attempt folder whose worker died (nobody holds its lock); True if removed."""
    try:
        fd = os.open(lock_file(folder), os.O_CREAT | os.O_RDWR, 0o600)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a live attempt works in it
    else:
        shutil.rmtree(folder, ignore_errors=True)
        lock_file(folder).unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)
