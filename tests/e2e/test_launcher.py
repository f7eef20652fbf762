"""`make run`'s launcher: comes up on its own embedded servers, stops cleanly, keeps its data."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from app.devserver.embedded import stop_postgres, stop_redis
from app.devserver.embedded._process import free_port
from tests.e2e import builders
from tests.e2e.jobs_api import upload
from tests.processes import still_running

START_TIMEOUT_SECONDS = 120
PROJECT_ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def launcher_dir() -> Iterator[Path]:
    # Reachable by the unprivileged user the embedded Postgres runs as when tests run as root.
    root = Path(tempfile.mkdtemp(prefix="shears-launcher-"))
    root.chmod(0o755)
    yield root / "data"
    # Whatever happened to the launcher, no server outlives the test.
    stop_postgres(root / "data" / "postgres")
    stop_redis(root / "data" / "redis")
    shutil.rmtree(root, ignore_errors=True)


class RunningLauncher:
    def __init__(self, launcher_dir: Path, port: int, **settings: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(DATA_DIR=str(launcher_dir), PORT=str(port), **settings)
        self.base_url = f"http://127.0.0.1:{port}"
        self.log = launcher_dir.parent / f"launcher-{time.monotonic_ns()}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app.devserver.launcher"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-4000:]
            # The banner comes once the API and the worker are both up.
            if "Shears is running" in self.log.read_text():
                assert httpx.get(f"{self.base_url}/readyz", timeout=5).status_code == 200
                return
            time.sleep(0.3)
        raise AssertionError(f"not ready in time:\n{self.log.read_text()[-4000:]}")

    def everything_it_started(self, launcher_dir: Path) -> list[psutil.Process]:
        procs = psutil.Process(self.proc.pid).children(recursive=True)
        for pid_file in (
            launcher_dir / "postgres/pgdata/postmaster.pid",
            launcher_dir / "redis/redis-server.pid",
        ):
            procs.append(psutil.Process(int(pid_file.read_text().split()[0])))
        return procs

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


def test_launcher_starts_stops_cleanly_and_keeps_data(launcher_dir: Path) -> None:
    port = free_port()
    first = RunningLauncher(launcher_dir, port, WEB_CONCURRENCY="2")
    try:
        first.wait_ready()
        assert len(api_processes(first)) == 2
        key = (launcher_dir / "dev-api-key").read_text().strip()
        assert oct((launcher_dir / "dev-api-key").stat().st_mode & 0o777) == "0o600"
        assert key in first.log.read_text()  # printed for the user
        headers = {"Authorization": f"Bearer {key}"}
        model_file = builders.keras_file(launcher_dir.parent / "model.keras")
        with httpx.Client(base_url=first.base_url, headers=headers, timeout=60) as client:
            model = upload(client, "models", model_file)
        started = first.everything_it_started(launcher_dir)
        names = {p.name() for p in started}
        assert {"postgres", "redis-server"} <= names
        assert first.terminate() == 0
        alive = still_running(started, timeout=10)
        assert not alive, [p.cmdline() for p in alive]
    finally:
        if first.proc.poll() is None:
            first.terminate()

    second = RunningLauncher(launcher_dir, port)
    try:
        second.wait_ready()
        assert (launcher_dir / "dev-api-key").read_text().strip() == key
        with httpx.Client(base_url=second.base_url, headers=headers, timeout=60) as client:
            listed = client.get("/v1/models").json()
        assert [m["id"] for m in listed["data"]] == [model["id"]]
    finally:
        assert second.terminate() == 0


def api_processes(launcher: RunningLauncher) -> list[psutil.Process]:
    """The uvicorn processes that serve requests (children of the one that holds the port)."""
    launched = psutil.Process(launcher.proc.pid).children()
    api = next(p for p in launched if "uvicorn" in p.cmdline())
    return [p for p in api.children() if "spawn_main" in " ".join(p.cmdline())]


def refused_launch(data_dir: Path, port: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(data_dir), PORT=str(port))
    return subprocess.run(
        [sys.executable, "-m", "app.devserver.launcher"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_second_launcher_is_refused_and_the_first_keeps_serving(launcher_dir: Path) -> None:
    port = free_port()
    first = RunningLauncher(launcher_dir, port)
    try:
        first.wait_ready()
        # Same data: it would share, then stop, the first one's Postgres and Redis.
        same_data = refused_launch(launcher_dir, free_port())
        assert same_data.returncode == 1
        assert "another `make run`" in same_data.stderr and "DATA_DIR" in same_data.stderr
        # Same port: the first server would answer its readiness check.
        same_port = refused_launch(launcher_dir.parent / "other-data", port)
        assert same_port.returncode == 1
        assert f"port {port}" in same_port.stderr and "PORT" in same_port.stderr
        assert not (launcher_dir.parent / "other-data" / "postgres").exists()
        assert httpx.get(f"{first.base_url}/readyz", timeout=5).status_code == 200
    finally:
        assert first.terminate() == 0
