"""Process and port helpers shared by the embedded Postgres and Redis servers."""

from __future__ import annotations

import os
import pwd
import secrets
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As servers bind: connections of a stopped server in TIME_WAIT do not make it busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def remembered_port(port_file: Path) -> int:
    """The port this server used last time if it is still free (so its URL survives a restart),
    else a new free one; remembered for next time."""
    if port_file.exists():
        port = int(port_file.read_text().strip())
        if port_is_free(port):
            return port
    port = free_port()
    port_file.write_text(f"{port}\n")
    return port


def remembered_secret(secret_file: Path) -> str:
    """A password made on first start and kept (0600) beside the server's data."""
    if not secret_file.exists():
        secret_file.touch(mode=0o600)
        secret_file.write_text(secrets.token_urlsafe(24))
    return secret_file.read_text().strip()


def live_process(pid: int, name: str, marker: str) -> psutil.Process | None:
    """The process `pid` if it is alive, is a `name` and has `marker` in its command line.

    A pid file that outlived its server (kill -9, a reboot) may name an unrelated process
    that reused the pid; only a process that is really ours counts.
    """
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        if proc.name() != name or not any(marker in arg for arg in proc.cmdline()):
            return None
        return proc
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def terminate(proc: psutil.Process, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    try:
        proc.terminate()
        proc.wait(timeout)
    except psutil.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)
    except psutil.NoSuchProcess:
        pass


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(0.1)


class ServiceUser:
    """Who a server process runs as: ourselves, or (Postgres refuses to run as root) a
    dedicated unprivileged system user created on first use."""

    def __init__(self, name: str) -> None:
        self.as_root = os.geteuid() == 0
        self.name = name if self.as_root else pwd.getpwuid(os.geteuid()).pw_name
        if self.as_root:
            self._ensure_exists()
        entry = pwd.getpwnam(self.name)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid

    def _ensure_exists(self) -> None:
        try:
            pwd.getpwnam(self.name)
        except KeyError:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    self.name,
                ],
                check=True,
                capture_output=True,
            )

    def run_kwargs(self) -> dict[str, object]:
        """subprocess keyword arguments that drop to this user."""
        if not self.as_root:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def own(self, path: Path, mode: int) -> None:
        if self.as_root:
            os.chown(path, self.uid, self.gid)
        path.chmod(mode)

    def make_reachable(self, path: Path) -> None:
        """Let this user traverse every directory above `path` (search permission only)."""
        if not self.as_root:
            return
        for parent in path.resolve().parents:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)


class ServerFiles:
    """The files a server keeps beside its data in `root`: its port and its password."""

    root: Path

    @property
    def port(self) -> int:
        return int((self.root / "port").read_text().strip())

    @property
    def password(self) -> str:
        return (self.root / "password").read_text().strip()
