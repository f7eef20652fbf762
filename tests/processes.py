"""Whether processes have really gone, for tests that promise "no process left behind"."""

from __future__ import annotations

import time
from collections.abc import Iterable

import psutil


def has_exited(process: psutil.Process) -> bool:
    """Gone, or a zombie waiting for its parent (init, for a daemonised server) to reap it."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def still_running(processes: Iterable[psutil.Process], timeout: float) -> list[psutil.Process]:
    """The processes that have not exited within `timeout` seconds."""
    pending = list(processes)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = [p for p in pending if not has_exited(p)]
        time.sleep(0.05)
    return [p for p in pending if not has_exited(p)]


def processes_mentioning(text: str) -> list[psutil.Process]:
    """Live processes with `text` in their command line (a job's trainer has the job id there)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(text in arg for arg in process.info["cmdline"] or []) and not has_exited(process):
            found.append(process)
    return found
