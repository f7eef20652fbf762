"""API keys: missing or wrong is 401, another tenant's resource is 404, keys are stored hashed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.api.main import create_app
from app.core.api_keys import hash_api_key
from app.core.db.models import ApiKey, Tenant
from app.core.db.session import session_scope
from tests.api.conftest import assert_error, submit
from tests.api.test_sweeps import submit_sweep

REPO = Path(__file__).resolve().parents[2]


def documented_operations() -> set[tuple[str, str]]:
    """Every (method, path) of the OpenAPI document, where API.md puts every endpoint."""
    paths = create_app().openapi()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


OPERATIONS = documented_operations()
V1_OPERATIONS = sorted(op for op in OPERATIONS if op[1].startswith("/v1/"))
# An endpoint of one resource: another tenant's key must find nothing there.
RESOURCE_OPERATIONS = [op for op in V1_OPERATIONS if "{" in op[1]]
PUBLIC_OPERATIONS = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
PLACEHOLDER_IDS = {
    "model_id": "mdl_x",
    "dataset_id": "ds_x",
    "job_id": "job_x",
    "sweep_id": "swp_x",
}


def test_only_the_operations_endpoints_are_public() -> None:
    assert OPERATIONS - set(V1_OPERATIONS) == PUBLIC_OPERATIONS


@pytest.mark.parametrize(("method", "path"), V1_OPERATIONS)
def test_every_v1_endpoint_needs_a_key(anonymous: TestClient, method: str, path: str) -> None:
    response = anonymous.request(method, path.format(**PLACEHOLDER_IDS))
    error = assert_error(response, 401, "unauthorized")
    assert "Bearer" in error["message"]


@pytest.mark.parametrize(("method", "path"), V1_OPERATIONS)
def test_every_v1_endpoint_refuses_a_wrong_key(
    anonymous: TestClient, method: str, path: str
) -> None:
    response = anonymous.request(
        method,
        path.format(**PLACEHOLDER_IDS),
        headers={"Authorization": "Bearer shr_not-a-real-key"},
    )
    error = assert_error(response, 401, "unauthorized")
    assert "not valid" in error["message"]


@pytest.mark.parametrize(("method", "path"), RESOURCE_OPERATIONS)
def test_every_endpoint_hides_another_tenants_resource(
    client: TestClient,
    other_client: TestClient,
    model_id: str,
    dataset_id: str,
    method: str,
    path: str,
) -> None:
    ids = {
        "model_id": model_id,
        "dataset_id": dataset_id,
        "job_id": submit(client, model_id, dataset_id).json()["id"],
        "sweep_id": submit_sweep(client, model_id, dataset_id)["id"],
    }
    kind = path.split("{", 1)[1].split("_id}", 1)[0]
    error = assert_error(other_client.request(method, path.format(**ids)), 404, f"{kind}_not_found")
    assert error["message"] == f"{kind} {ids[kind + '_id']!r} does not exist"
    # ... and left it as it was for its owner.
    assert client.get(f"/v1/models/{model_id}").status_code == 200
    assert client.get(f"/v1/datasets/{dataset_id}").status_code == 200
    assert client.get(f"/v1/jobs/{ids['job_id']}").json()["status"] == "queued"


@pytest.mark.parametrize(
    "authorization", ["Bearer shr_not-a-real-key", "Bearer ", "Basic dXNlcjpwYXNz", "shr_raw"]
)
def test_a_wrong_key_is_401(anonymous: TestClient, authorization: str) -> None:
    response = anonymous.get("/v1/models", headers={"Authorization": authorization})
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/v1/models", "/v1/models/{model_id}", "/v1/jobs/{job_id}"])
def test_a_revoked_key_is_401_at_once(
    client: TestClient, model_id: str, dataset_id: str, path: str
) -> None:
    url = path.format(model_id=model_id, job_id=submit(client, model_id, dataset_id).json()["id"])
    key = client.headers["Authorization"].removeprefix("Bearer ")
    assert client.get(url).status_code == 200
    with session_scope() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key)))
        row.revoked_at = row.created_at
    assert_error(client.get(url), 401, "unauthorized")


def test_an_id_postgres_cannot_hold_is_404_for_a_key_and_401_without_one(
    client: TestClient, anonymous: TestClient
) -> None:
    url = "/v1/jobs/job_%00x"
    assert_error(client.get(url), 404, "job_not_found")
    wrong = {"Authorization": "Bearer shr_not-a-real-key"}
    assert_error(anonymous.get(url, headers=wrong), 401, "unauthorized")


def test_create_api_key_command_prints_a_key_stored_only_as_its_hash() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "app.admin", "create-api-key", "--tenant", "cli-tenant"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key.startswith("shr_") and len(key) > 30
    with session_scope() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.name == "cli-tenant"))
        hashes = session.scalars(select(ApiKey.key_hash).where(ApiKey.tenant_id == tenant.id)).all()
    assert hash_api_key(key) in hashes
    assert key not in hashes
