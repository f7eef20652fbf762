"""The whole service for a benchmark, as `make run` starts it: embedded Postgres and Redis in a
temporary directory, the API under uvicorn and one Celery worker, all on 127.0.0.1.

Everything started is stopped when the `with` block ends, however it ends: an exception,
Ctrl-C, or SIGTERM (turned into KeyboardInterrupt here).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import psycopg

from app.core.api_keys import create_api_key
from app.core.db.migrate import upgrade_to_head
from app.core.db.session import get_engine, get_sessionmaker, session_scope
from app.core.queue import celery_client
from app.core.settings import get_settings
from app.devserver.embedded import start_postgres, start_redis
from app.devserver.embedded._process import free_port
from app.devserver.embedded.children import Child, api_process, worker_process

HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 90
API_STOP_SECONDS = 10
WORKER_STOP_SECONDS = 15


@dataclass(frozen=True)
class RunningService:
    base_url: str
    api_key: str
    pids: dict[str, int]  # api, worker, postgres, redis
    database_url: str
    root: Path  # scratch space for the benchmark's own files too; removed at the end
    redis_url: str = ""
    child_env: dict[str, str] = field(default_factory=dict)  # what a further worker gets
    workers: list[Child] = field(default_factory=list)  # running ones; stopped at the end

    @property
    def api_pid(self) -> int:
        return self.pids["api"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def client(self, timeout: float = 120.0) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=self.headers, timeout=timeout)


@contextmanager
def running_service(
    settings: dict[str, str] | None = None, workers: int = 1
) -> Iterator[RunningService]:
    """The service on fresh servers, with default settings but `settings` (environment names),
    and `workers` Celery workers (one job at a time each)."""
    root = Path(tempfile.mkdtemp(prefix="shears-bench-"))
    root.chmod(0o755)  # as root, Postgres runs as its own user and must reach its directory
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        stack.enter_context(_sigterm_interrupts())
        postgres = start_postgres(root / "postgres")
        stack.callback(postgres.stop)
        redis = start_redis(root / "redis")
        stack.callback(redis.stop)
        child_env = {
            **os.environ,
            "DATABASE_URL": postgres.url,
            "REDIS_URL": redis.url,
            "DATA_DIR": str(root / "data"),
            **(settings or {}),
        }
        stack.enter_context(_settings_from(child_env))
        upgrade_to_head(postgres.url)
        with session_scope() as session:
            api_key = create_api_key(session, "bench")
        port = free_port(HOST)
        web_concurrency = int(child_env.get("WEB_CONCURRENCY", "1"))  # as `make run` reads it
        api = api_process(child_env, HOST, port, root / "api.log", web_concurrency)
        stack.callback(api.stop, API_STOP_SECONDS)
        started = [start_worker(child_env, root, n) for n in range(workers)]
        stack.callback(_stop_all, started)
        children = [api, *started]
        base_url = f"http://{HOST}:{port}"
        try:
            _wait_until_ready(base_url, children, redis.url)
            pids = {child.name: child.proc.pid for child in children[:2]}
            for name, server in (("postgres", postgres), ("redis", redis)):
                if (process := server.running_process()) is not None:
                    pids[name] = process.pid
            yield RunningService(
                base_url, api_key, pids, postgres.url, root, redis.url, child_env, started
            )
        except Exception:
            print(f"{_log_tails(root)}\nfull logs kept in {_keep_logs(root)}", flush=True)
            raise


def start_worker(env: dict[str, str], root: Path, number: int) -> Child:
    """Worker `number` (its own node name and log); the first is the one `make run` starts."""
    if number == 0:
        return worker_process(env, root / "worker.log")
    return worker_process(env, root / f"worker-{number}.log", f"worker{number}@%h")


def _stop_all(workers: list[Child]) -> None:
    for worker in workers:
        worker.stop(WORKER_STOP_SECONDS)


class PeakRss:
    """The largest resident set size of one process, sampled every `interval` seconds in a
    thread, while the `with` block runs."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.baseline = self.peak = self.process.memory_info().rss
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @property
    def growth_bytes(self) -> int:
        return self.peak - self.baseline

    def __enter__(self) -> PeakRss:
        self.baseline = self.peak = self.process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.samples += 1
            self._stop.wait(self.interval)


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU time (user + system) used so far by each process and its live descendants, and by
    this process (the benchmark's clients) as "clients"."""
    used = {"clients": _cpu(psutil.Process())}
    for name, pid in pids.items():
        try:
            root = psutil.Process(pid)
            # Exited children count once reaped (Postgres backends closed by the pool).
            live = sum(_cpu(child) for child in root.children(recursive=True))
            used[name] = _cpu(root, with_reaped_children=True) + live
        except psutil.NoSuchProcess:
            used[name] = 0.0
    return used


def postgres_sessions(database_url: str) -> int:
    """Connections Postgres has accepted to the service's database so far."""
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def _cpu(process: psutil.Process, with_reaped_children: bool = False) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    reaped = times.children_user + times.children_system if with_reaped_children else 0.0
    return float(times.user + times.system + reaped)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _settings_from(env: dict[str, str]) -> Iterator[None]:
    """Point this process's settings (for the API key and migrations) at the servers."""
    names = ("DATABASE_URL", "REDIS_URL", "DATA_DIR")
    previous = {name: os.environ.get(name) for name in names}
    os.environ.update({name: env[name] for name in names})
    _reset_settings()
    try:
        yield
    finally:
        _reset_settings()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _reset_settings() -> None:
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    for cached in (get_engine, get_sessionmaker, get_settings, celery_client):
        cached.cache_clear()


def _wait_until_ready(base_url: str, children: list[Child], redis_url: str) -> None:
    """Until /readyz says 200 and the worker answers a ping."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    api_ready = worker_ready = False
    while not (api_ready and worker_ready):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the service was not ready within {READY_TIMEOUT_SECONDS}s")
        for child in children:
            if child.exited():
                raise RuntimeError(f"the {child.name} process exited ({child.returncode})")
        try:
            api_ready = api_ready or httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            pass
        if not worker_ready:
            worker_ready = bool(celery_client(redis_url).control.ping(timeout=0.5))
        time.sleep(0.2)


def _keep_logs(root: Path) -> Path:
    """Copies of the service's logs, which would otherwise go with its directory."""
    kept = Path(tempfile.mkdtemp(prefix="shears-bench-logs-"))
    for log in root.glob("*.log"):
        shutil.copy(log, kept)
    return kept


def _log_tails(root: Path, chars: int = 4000) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()[-chars:]}" for log in root.glob("*.log"))
