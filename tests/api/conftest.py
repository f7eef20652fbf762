"""The API against real Postgres and Redis (tests/conftest.py starts them); no Celery worker runs.

Each test gets its own tenant, so counts and lists only see what the test made.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.api.main import create_app
from app.core.api_keys import create_api_key, hash_api_key
from app.core.db.models import (
    ACTIVE_STATUSES,
    ApiKey,
    Blob,
    BlobChunk,
    Dataset,
    Job,
    JobArtifact,
    JobEvent,
    Model,
    utcnow,
)
from app.core.db.session import session_scope
from app.core.queue import GPU_QUEUE
from app.core.settings import get_settings
from tests.api import files


@pytest.fixture(scope="session")
def app(postgres_url: str, redis_url: str) -> Iterator[FastAPI]:
    application = create_app()
    with TestClient(application):  # runs the lifespan once
        yield application


def closed_port() -> int:
    """A loopback port nothing listens on (for now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def live_url(app: FastAPI) -> Iterator[str]:
    """The app behind a real uvicorn on loopback, for clients that read a stream as it arrives
    (TestClient hands over a response only once the app has finished it)."""
    port = closed_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def new_client(app: FastAPI, key: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return TestClient(app, headers=headers, raise_server_exceptions=False)


def new_tenant_key() -> str:
    with session_scope() as session:
        return create_api_key(session, f"tenant-{uuid.uuid4().hex[:12]}")


def tenant_id_of(client: httpx.Client) -> str:
    key = client.headers["Authorization"].removeprefix("Bearer ")
    with session_scope() as session:
        return session.scalar(select(ApiKey.tenant_id).where(ApiKey.key_hash == hash_api_key(key)))


def finish_active_jobs(tenant_id: str) -> None:
    """No worker runs here: leave no queued job for a later suite's worker or sweeper to run."""
    with session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.tenant_id == tenant_id, Job.status.in_(ACTIVE_STATUSES))
            .values(status="cancelled", finished_at=utcnow())
        )


@pytest.fixture(scope="session", autouse=True)
def empty_queue_after_suite(redis_url: str) -> Iterator[None]:
    yield
    redis.Redis.from_url(redis_url).delete(GPU_QUEUE)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    test_client = new_client(app, new_tenant_key())
    yield test_client
    finish_active_jobs(tenant_id_of(test_client))


@pytest.fixture
def other_client(app: FastAPI) -> Iterator[TestClient]:
    """Another tenant."""
    test_client = new_client(app, new_tenant_key())
    yield test_client
    finish_active_jobs(tenant_id_of(test_client))


@pytest.fixture
def anonymous(app: FastAPI) -> TestClient:
    return new_client(app, None)


# What a request can leave behind in Postgres.
STORED_TABLES = (Model, Dataset, Job, JobEvent, JobArtifact, Blob, BlobChunk)
# Hostile archives name the files they try to plant outside the extraction directory with this.
ESCAPE_MARKER = "shears-escape"


def stored_rows() -> dict[str, int]:
    with session_scope() as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in STORED_TABLES
        }


def escaped_files(data_dir: Path) -> list[Path]:
    """Files named with ESCAPE_MARKER wherever a `../` or absolute member could have put them."""
    roots = [Path("/tmp"), Path.cwd(), data_dir.parent]
    near = [path for root in roots for path in root.glob(f"*{ESCAPE_MARKER}*")]
    return near + list(data_dir.rglob(f"*{ESCAPE_MARKER}*"))


@pytest.fixture
def nothing_kept(client: TestClient, data_dir: Path) -> Iterator[None]:
    """The test's requests are all refused: no row or blob stored, no upload file left, nothing
    written outside the service's directories, and the service still ready."""
    before = stored_rows()
    yield
    assert stored_rows() == before
    assert list((data_dir / "uploads").iterdir()) == []
    assert escaped_files(data_dir) == []
    assert client.get("/readyz").status_code == 200


@pytest.fixture
def settings_update(app: FastAPI) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Call it with settings to change for the app's requests until the test ends."""

    def update(values: dict[str, Any]) -> None:
        app.dependency_overrides[get_settings] = lambda: get_settings().model_copy(update=values)

    yield update
    app.dependency_overrides.clear()


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The API's error envelope with this status (and code); returns the error object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error


@pytest.fixture(scope="session")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> files.ModelFiles:
    return files.make_model_files(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def dataset_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return files.make_dataset(tmp_path_factory.mktemp("datasets") / "digits.npz")


def upload(client: TestClient, kind: str, path: Path, filename: str | None = None, **fields: str):
    with path.open("rb") as stream:
        return client.post(
            f"/v1/{kind}", files={"file": (filename or path.name, stream)}, data=fields or None
        )


def job_body(model_id: str, dataset_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "model_id": model_id,
        "dataset_id": dataset_id,
        "hparams": {"target_sparsity": 0.8},
        "training": {"epochs": 1, "batch_size": 16},
    }
    return {**body, **overrides}


def submit(client: TestClient, model_id: str, dataset_id: str, **overrides: Any):
    return client.post("/v1/jobs", json=job_body(model_id, dataset_id, **overrides))


@pytest.fixture
def model_id(client: TestClient, model_files: files.ModelFiles) -> str:
    response = upload(client, "models", model_files.zip)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def dataset_id(client: TestClient, dataset_file: Path) -> str:
    response = upload(client, "datasets", dataset_file)
    assert response.status_code == 201, response.text
    return response.json()["id"]
