"""Jobs after submission: idempotent resubmits, lists, cancel, delete, quotas, tenants."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.services import jobs as jobs_service
from app.core.db.models import Job
from app.core.db.session import session_scope
from app.core.settings import get_settings
from app.core.storage import BlobStore
from tests.api.conftest import assert_error, job_body, submit, upload
from tests.api.job_states import PROGRESS, events_of, mark_running


def test_idempotency_key_returns_the_first_job(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    body = job_body(model_id, dataset_id)
    headers = {"Idempotency-Key": "nightly-2024-01-01"}
    first = client.post("/v1/jobs", json=body, headers=headers)
    again = client.post("/v1/jobs", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert client.get("/v1/jobs").json()["count"] == 1

    changed = {**body, "hparams": {"target_sparsity": 0.5}}
    error = assert_error(client.post("/v1/jobs", json=changed, headers=headers), 409)
    assert (
        error["code"] == "idempotency_key_reused"
        and error["details"]["job_id"] == first.json()["id"]
    )
    other = client.post("/v1/jobs", json=body, headers={"Idempotency-Key": "another"})
    assert other.json()["id"] != first.json()["id"]


def test_an_idempotency_key_expires_after_the_window(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    headers = {"Idempotency-Key": "weekly"}
    first = client.post("/v1/jobs", json=job_body(model_id, dataset_id), headers=headers).json()
    with session_scope() as session:
        job = session.get(Job, first["id"])
        job.created_at -= timedelta(seconds=get_settings().idempotency_window_seconds + 60)
    second = client.post("/v1/jobs", json=job_body(model_id, dataset_id), headers=headers)
    assert second.status_code == 202 and second.json()["id"] != first["id"]


def test_list_filters_by_status(client: TestClient, model_id: str, dataset_id: str) -> None:
    first = submit(client, model_id, dataset_id).json()
    second = submit(client, model_id, dataset_id).json()
    client.post(f"/v1/jobs/{first['id']}/cancel")
    everything = client.get("/v1/jobs").json()
    assert [j["id"] for j in everything["data"]] == [second["id"], first["id"]]
    queued = client.get("/v1/jobs", params={"status": "queued"}).json()
    assert queued["count"] == 1 and queued["data"][0]["id"] == second["id"]
    cancelled = client.get("/v1/jobs", params={"status": "cancelled"}).json()
    assert [j["id"] for j in cancelled["data"]] == [first["id"]]
    running = client.get("/v1/jobs", params={"status": "running"}).json()
    assert running == {"data": [], "count": 0}
    assert_error(client.get("/v1/jobs", params={"status": "paused"}), 422, "invalid_request")


def test_cancel_a_queued_job(client: TestClient, model_id: str, dataset_id: str) -> None:
    job = submit(client, model_id, dataset_id).json()
    response = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert response.status_code == 202
    cancelled = response.json()
    assert cancelled["status"] == "cancelled" and cancelled["finished_at"] is not None
    assert events_of(job["id"]) == [
        ("status", {"status": "queued"}),
        ("status", {"status": "cancelled"}),
    ]
    error = assert_error(client.post(f"/v1/jobs/{job['id']}/cancel"), 409, "job_finished")
    assert "cancelled" in error["message"]


def test_cancel_a_running_job_asks_the_worker(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    job = submit(client, model_id, dataset_id).json()
    mark_running(job["id"])
    response = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == "running" and response.json()["cancel_requested"] is True


def test_a_running_job_shows_its_latest_progress(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    job = submit(client, model_id, dataset_id).json()
    mark_running(job["id"], PROGRESS)
    for response in (client.get(f"/v1/jobs/{job['id']}"), client.get("/v1/jobs")):
        assert response.status_code == 200
    progress = client.get(f"/v1/jobs/{job['id']}").json()["progress"]
    assert progress["epoch"] == 4.4444 and progress["step"] == 40
    assert progress["layers"][0]["name"] == "dense/kernel"
    assert progress["updated_at"].endswith(("Z", "+00:00"))


def test_inputs_in_use_cannot_be_deleted(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    job = submit(client, model_id, dataset_id).json()
    error = assert_error(client.delete(f"/v1/models/{model_id}"), 409, "model_in_use")
    assert job["id"] in error["message"]
    assert_error(client.delete(f"/v1/datasets/{dataset_id}"), 409, "dataset_in_use")
    client.post(f"/v1/jobs/{job['id']}/cancel")
    assert client.delete(f"/v1/models/{model_id}").status_code == 204
    assert client.delete(f"/v1/datasets/{dataset_id}").status_code == 204
    kept = client.get(f"/v1/jobs/{job['id']}").json()
    assert (kept["status"], kept["model_id"], kept["dataset_id"]) == ("cancelled", None, None)


def test_delete_a_job(client: TestClient, model_id: str, dataset_id: str) -> None:
    job = submit(client, model_id, dataset_id).json()
    assert_error(client.delete(f"/v1/jobs/{job['id']}"), 409, "job_active")
    client.post(f"/v1/jobs/{job['id']}/cancel")
    assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
    assert_error(client.get(f"/v1/jobs/{job['id']}"), 404, "job_not_found")
    assert events_of(job["id"]) == []


def test_concurrent_job_limit_is_429(
    app: FastAPI, client: TestClient, model_id: str, dataset_id: str
) -> None:
    app.dependency_overrides[get_settings] = lambda: get_settings().model_copy(
        update={"tenant_max_concurrent_jobs": 1}
    )
    try:
        assert submit(client, model_id, dataset_id).status_code == 202
        error = assert_error(submit(client, model_id, dataset_id), 429, "job_quota_exceeded")
    finally:
        app.dependency_overrides.clear()
    assert "limit of concurrent jobs is 1" in error["message"]


def test_stored_bytes_limit_is_429(app: FastAPI, client: TestClient, dataset_file: Path) -> None:
    limit = dataset_file.stat().st_size + 100
    app.dependency_overrides[get_settings] = lambda: get_settings().model_copy(
        update={"tenant_max_stored_bytes": limit}
    )
    try:
        assert upload(client, "datasets", dataset_file).status_code == 201
        error = assert_error(
            upload(client, "datasets", dataset_file), 429, "storage_quota_exceeded"
        )
    finally:
        app.dependency_overrides.clear()
    assert str(limit) in error["message"]
    assert client.get("/v1/datasets").json()["count"] == 1


def test_another_tenants_job_is_not_found(
    client: TestClient, other_client: TestClient, model_id: str, dataset_id: str
) -> None:
    job_id = submit(client, model_id, dataset_id).json()["id"]
    for method, path in [
        ("GET", f"/v1/jobs/{job_id}"),
        ("POST", f"/v1/jobs/{job_id}/cancel"),
        ("DELETE", f"/v1/jobs/{job_id}"),
        ("GET", f"/v1/jobs/{job_id}/events"),
        ("GET", f"/v1/jobs/{job_id}/model"),
        ("GET", f"/v1/jobs/{job_id}/metrics"),
        ("GET", f"/v1/jobs/{job_id}/tensorboard"),
        ("GET", f"/v1/jobs/{job_id}/report.png"),
    ]:
        assert_error(other_client.request(method, path), 404, "job_not_found")
    assert other_client.get("/v1/jobs").json()["count"] == 0
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"


def test_two_uploads_at_once_cannot_both_pass_the_storage_limit(
    live_url: str,
    client: TestClient,
    dataset_file: Path,
    settings_update: Callable[[dict[str, Any]], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings_update({"tenant_max_stored_bytes": dataset_file.stat().st_size + 100})
    put_file = BlobStore.put_file

    def slow_put_file(self: BlobStore, *args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)  # both requests are past their checks before either has stored
        return put_file(self, *args, **kwargs)

    monkeypatch.setattr(BlobStore, "put_file", slow_put_file)
    statuses: list[int] = []

    def upload_once() -> None:
        with httpx.Client(base_url=live_url, headers=client.headers, timeout=60) as http:
            statuses.append(upload(http, "datasets", dataset_file).status_code)  # type: ignore[arg-type]

    threads = [threading.Thread(target=upload_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [201, 429]
    assert client.get("/v1/datasets").json()["count"] == 1


def test_parallel_submissions_cannot_both_pass_the_job_limit(
    live_url: str,
    client: TestClient,
    model_id: str,
    dataset_id: str,
    settings_update: Callable[[dict[str, Any]], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings_update({"tenant_max_concurrent_jobs": 1})
    fits = jobs_service.check_data_fits_model

    def slow_fits(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)  # both requests are past the quota check before either has committed
        return fits(*args, **kwargs)

    monkeypatch.setattr(jobs_service, "check_data_fits_model", slow_fits)
    statuses: list[int] = []

    def submit_once() -> None:
        with httpx.Client(base_url=live_url, headers=client.headers, timeout=60) as http:
            statuses.append(submit(http, model_id, dataset_id).status_code)  # type: ignore[arg-type]

    threads = [threading.Thread(target=submit_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [202, 429]
    assert client.get("/v1/jobs").json()["count"] == 1
