"""What `make run` checks before it starts anything: that no other launcher owns its data
directory (it would share, then stop, the same Postgres and Redis), and that its port is free
(otherwise another server would answer the readiness check in its place)."""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import IO

LOCK_FILE = "launcher.lock"


def claim_data_dir(data_dir: Path) -> IO[str]:
    """An exclusive lock on data_dir, held for as long as the returned file stays open."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = (data_dir / LOCK_FILE).open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        owner = lock.read().strip() or "another process"
        lock.close()
        raise RuntimeError(
            f"another `make run` ({owner}) is using {data_dir}; stop it first, or set DATA_DIR "
            "to run a separate instance"
        ) from None
    lock.truncate(0)
    lock.write(f"pid {os.getpid()}\n")
    lock.flush()
    return lock


def ensure_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise RuntimeError(
                f"port {port} on {host} is already in use; stop what is using it, or set PORT"
            ) from None
