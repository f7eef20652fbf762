"""API keys: missing or wrong is 401, another tenant's resource is 404, keys are stored hashed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth import hash_api_key
from app.db.models import ApiKey, Tenant
from app.db.session import session_scope
from tests.api.conftest import assert_error

REPO = Path(__file__).resolve().parents[2]

ENDPOINTS = [
    ("POST", "/v1/models"),
    ("GET", "/v1/models"),
    ("GET", "/v1/models/mdl_x"),
    ("GET", "/v1/models/mdl_x/download"),
    ("DELETE", "/v1/models/mdl_x"),
    ("POST", "/v1/datasets"),
    ("GET", "/v1/datasets"),
    ("GET", "/v1/datasets/ds_x"),
    ("GET", "/v1/datasets/ds_x/download"),
    ("DELETE", "/v1/datasets/ds_x"),
    ("POST", "/v1/jobs"),
    ("GET", "/v1/jobs"),
    ("GET", "/v1/jobs/job_x"),
    ("DELETE", "/v1/jobs/job_x"),
    ("POST", "/v1/jobs/job_x/cancel"),
    ("GET", "/v1/jobs/job_x/events"),
    ("GET", "/v1/jobs/job_x/model"),
    ("GET", "/v1/jobs/job_x/metrics"),
    ("GET", "/v1/jobs/job_x/tensorboard"),
    ("GET", "/v1/jobs/job_x/report.png"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_v1_endpoint_needs_a_key(anonymous: TestClient, method: str, path: str) -> None:
    error = assert_error(anonymous.request(method, path), 401, "unauthorized")
    assert "Bearer" in error["message"]


@pytest.mark.parametrize(
    "authorization", ["Bearer shr_not-a-real-key", "Bearer ", "Basic dXNlcjpwYXNz", "shr_raw"]
)
def test_a_wrong_key_is_401(anonymous: TestClient, authorization: str) -> None:
    response = anonymous.get("/v1/models", headers={"Authorization": authorization})
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_revoked_key_is_401(client: TestClient) -> None:
    key = client.headers["Authorization"].removeprefix("Bearer ")
    assert client.get("/v1/models").status_code == 200
    with session_scope() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key)))
        row.revoked_at = row.created_at
    assert_error(client.get("/v1/models"), 401, "unauthorized")


def test_create_api_key_command_prints_a_key_stored_only_as_its_hash() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "create-api-key", "--tenant", "cli-tenant"],
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
