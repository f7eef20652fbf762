"""/healthz, /readyz, /metrics, the OpenAPI document, and the envelope on every kind of error."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.api import readiness
from app.api.main import create_app
from app.api.redis_client import client_for
from app.core.db.session import get_db, get_read_db
from tests.api.conftest import assert_error, closed_port, submit


def test_healthz(anonymous: TestClient) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok"}


def test_readyz_when_everything_answers(anonymous: TestClient) -> None:
    response = anonymous.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "postgres": "ok", "redis": "ok", "schema": "ok"}


def test_readyz_names_a_schema_behind_the_migrations(
    anonymous: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readiness, "migration_heads", lambda: frozenset({"9999_future"}))
    error = assert_error(anonymous.get("/readyz"), 503, "not_ready")
    assert "schema" in error["message"] and "9999_future" in error["message"]
    assert error["details"]["postgres"] == "ok" and error["details"]["redis"] == "ok"


def test_readyz_names_redis_when_it_is_down(
    anonymous: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = client_for(f"redis://127.0.0.1:{closed_port()}/0")
    monkeypatch.setattr(readiness, "get_redis", lambda: dead)
    error = assert_error(anonymous.get("/readyz"), 503, "not_ready")
    assert error["message"].startswith("not ready: redis: unreachable")
    assert error["details"]["postgres"] == "ok"


@pytest.fixture
def postgres_down(app: FastAPI) -> Iterator[None]:
    engine = create_engine(f"postgresql+psycopg://shears@127.0.0.1:{closed_port()}/shears")

    def dead_session() -> Iterator[Session]:
        with Session(engine) as session:
            yield session

    # Writes and autocommit reads (auth, job status, lists) alike.
    app.dependency_overrides[get_db] = dead_session
    app.dependency_overrides[get_read_db] = dead_session
    yield
    app.dependency_overrides.clear()
    engine.dispose()


@pytest.mark.usefixtures("postgres_down")
def test_postgres_down_is_503_in_the_envelope(client: TestClient) -> None:
    response = client.get("/v1/models")
    assert_error(response, 503, "database_unavailable")
    assert response.headers["retry-after"]


def test_metrics_in_prometheus_text(client: TestClient, model_id: str, dataset_id: str) -> None:
    submit(client, model_id, dataset_id)
    client.get("/v1/models/mdl_missing")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert re.search(
        r'shears_http_requests_total\{method="GET",route="/v1/models/\{model_id\}",status="404"\} '
        r"[1-9]",
        text,
    )
    assert (
        'shears_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/v1/jobs"}'
        in text
    )
    queued = re.search(r'shears_jobs\{status="queued"\} (\d+)', text)
    assert queued and int(float(queued.group(1))) >= 1
    depth = re.search(r'shears_queue_depth\{queue="gpu"\} (\d+)', text)
    assert depth and int(float(depth.group(1))) >= 1


def test_unknown_paths_and_methods_use_the_envelope(anonymous: TestClient) -> None:
    assert_error(anonymous.get("/v2/everything"), 404, "not_found")
    assert_error(anonymous.put("/healthz"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/v1/models", "GET, POST"),
        ("PUT", "/v1/models/mdl_1", "DELETE, GET"),
        ("OPTIONS", "/v1/jobs/job_1/cancel", "POST"),
        ("DELETE", "/v1/jobs/job_1/report.png", "GET"),
    ],
)
def test_a_405_says_which_methods_the_path_has(
    anonymous: TestClient, method: str, path: str, allow: str
) -> None:
    response = anonymous.request(method, path)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow


def test_a_bug_is_a_500_in_the_envelope(postgres_url: str, redis_url: str) -> None:
    app = create_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    error = assert_error(TestClient(app, raise_server_exceptions=False).get("/boom"), 500)
    assert error["code"] == "internal_error" and "a bug" not in error["message"]


def test_openapi_documents_every_endpoint(anonymous: TestClient) -> None:
    spec = anonymous.get("/openapi.json").json()
    for path, method in [
        ("/v1/models", "post"),
        ("/v1/datasets", "post"),
        ("/v1/jobs", "post"),
        ("/v1/jobs/{job_id}/events", "get"),
        ("/v1/jobs/{job_id}/model", "get"),
        ("/readyz", "get"),
    ]:
        assert method in spec["paths"][path], path
    upload_body = spec["paths"]["/v1/models"]["post"]["requestBody"]["content"]
    assert upload_body["multipart/form-data"]["schema"]["required"] == ["file"]
    assert "ErrorEnvelope" in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert anonymous.get("/docs").status_code == 200


def test_every_ref_in_the_openapi_document_resolves(anonymous: TestClient) -> None:
    """A `$ref` that points nowhere makes client generators drop the operation (POST /v1/jobs
    once lost its body model this way)."""
    spec = anonymous.get("/openapi.json").json()
    refs = set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(spec)))
    assert refs, "the document has no references at all"
    for ref in refs:
        node = spec
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
            node = node[part]
