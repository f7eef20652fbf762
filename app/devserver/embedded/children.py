"""Child processes of the launcher: each in its own process group, gone when it goes."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from pathlib import Path

from app.core.process_group import stop_group

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log_path: Path | None = None
    ) -> None:
        self.name = name
        self.log_path = log_path
        log = log_path.open("ab") if log_path else None
        try:
            # Its own process group: a Ctrl-C reaches the launcher only, which stops the
            # children in order; the group is how a child's own children (Celery's pool) are
            # stopped too.
            self.proc = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            if log:
                log.close()

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def exited(self) -> bool:
        return self.proc.poll() is not None

    def stop(self, timeout: float) -> None:
        """SIGTERM the group, SIGKILL it if the child has not exited in time."""
        stop_group(self.proc, timeout)


def worker_process(
    env: dict[str, str], log_path: Path | None = None, node_name: str | None = None
) -> Child:
    """One Celery worker on the `gpu` queue, one job at a time; `node_name` (e.g. gpu3@%h)
    tells several on one host apart."""
    argv = [sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker"]
    argv += ["-Q", "gpu", "--concurrency", "1", "--loglevel", "INFO"]
    argv += ["-n", node_name] if node_name else []
    return Child("worker", argv, env, log_path)


def api_process(
    env: dict[str, str], host: str, port: int, log_path: Path | None = None, workers: int = 1
) -> Child:
    """The API under uvicorn, in `workers` processes sharing the port."""
    argv = [sys.executable, "-m", "uvicorn", "app.api.main:create_app", "--factory"]
    argv += ["--host", host, "--port", str(port), "--workers", str(workers)]
    return Child("api", argv, env, log_path)
