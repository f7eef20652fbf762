"""The service as users meet it: the API (uvicorn) and a real Celery worker, as subprocesses,
on the session's Postgres and Redis."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.core.api_keys import create_api_key
from app.core.db.session import session_scope
from app.devserver.embedded._process import free_port
from app.devserver.embedded.children import Child, api_process, worker_process

READY_TIMEOUT_SECONDS = 60


@dataclass
class Service:
    base_url: str
    api_key: str
    logs: list[Path]

    def client(self, timeout: float = 60.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def log_tail(self, chars: int = 12000) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-chars:]}" for p in self.logs)


def wait_for_ready(base_url: str, children: list[Child], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children:
            if child.exited():
                raise RuntimeError(f"{child.name} exited with {child.returncode}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base_url}/readyz not 200 after {timeout}s")


def service_env(postgres_url: str, redis_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(data_dir),
        # Small jobs finish in seconds: report every progress line, notice a cancel quickly.
        "PROGRESS_DB_INTERVAL_SECONDS": "0",
        "CANCEL_POLL_SECONDS": "0.3",
        **extra,
    }


def new_api_key(tenant: str) -> str:
    with session_scope() as session:
        return create_api_key(session, tenant)


# Per module, so no worker outlives the e2e tests and picks up jobs other suites make directly.
@pytest.fixture(scope="module")
def service(postgres_url: str, redis_url: str, data_dir: Path) -> Iterator[Service]:
    env = service_env(postgres_url, redis_url, data_dir)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    logs = [data_dir / "e2e-worker.log", data_dir / "e2e-api.log"]
    worker, api = worker_process(env, logs[0]), api_process(env, "127.0.0.1", port, logs[1])
    try:
        wait_for_ready(base_url, [worker, api], READY_TIMEOUT_SECONDS)
        yield Service(base_url, new_api_key("e2e"), logs)
    finally:
        api.stop(10)
        worker.stop(15)
