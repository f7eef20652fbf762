"""Sweeps through the real API, Postgres and Redis (no worker: tests put jobs in the states a
worker would): validation before queueing, quotas, the table as jobs finish, cancel, delete,
tenant isolation."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.core.db.models import Job, Sweep, utcnow
from app.core.db.session import session_scope
from app.core.queue import GPU_QUEUE
from tests.api.conftest import assert_error, submit, tenant_id_of
from tests.api.job_states import mark_running, mark_succeeded

SPARSITIES = [0.9, 0.5, 0.75]
BASELINE = {"loss": 0.12, "accuracy": 0.96}


def sweep_body(model_id: str, dataset_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "model_id": model_id,
        "dataset_id": dataset_id,
        "sparsities": SPARSITIES,
        "hparams": {"pruning_frequency": 7, "target_sparsity": 0.3},
        "training": {"steps": 20, "batch_size": 16},
        "name": "digits sweep",
    }
    return {**body, **overrides}


def submit_sweep(client: TestClient, model_id: str, dataset_id: str, **overrides: Any):
    response = client.post("/v1/sweeps", json=sweep_body(model_id, dataset_id, **overrides))
    assert response.status_code == 202, response.text
    return response.json()


def job_metrics(sparsity: float, accuracy: float, loss: float) -> dict[str, Any]:
    return {
        "baseline": BASELINE,
        "pruned": {"loss": loss, "accuracy": accuracy},
        "sparsity": {"target": sparsity, "achieved": sparsity - 0.001, "layers": []},
        "params": {"total": 5000, "prunable": 4800, "nonzero": int(5000 * (1 - sparsity))},
        "size": {"pruned_gzip_bytes": int(20000 * (1 - sparsity)) + 3000},
    }


def mark_failed(job_id: str, code: str, message: str) -> None:
    with session_scope() as session:
        job = session.get_one(Job, job_id)
        job.status, job.finished_at = "failed", utcnow()
        job.error = {"code": code, "message": message}


def mark_cancelled(job_id: str) -> None:
    with session_scope() as session:
        job = session.get_one(Job, job_id)
        job.status, job.finished_at = "cancelled", utcnow()


def stored_counts(tenant_id: str) -> tuple[int, int]:
    with session_scope() as session:
        jobs = session.scalar(
            select(func.count()).select_from(Job).where(Job.tenant_id == tenant_id)
        )
        sweeps = session.scalar(
            select(func.count()).select_from(Sweep).where(Sweep.tenant_id == tenant_id)
        )
        return jobs or 0, sweeps or 0


def test_a_sweep_queues_one_job_per_sparsity_with_the_shared_hparams(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    response = client.post("/v1/sweeps", json=sweep_body(model_id, dataset_id))
    assert response.status_code == 202, response.text
    sweep = response.json()
    assert response.headers["Location"] == f"/v1/sweeps/{sweep['id']}"
    assert sweep["status"] == "queued"
    assert sweep["counts"] == {
        "queued": 3,
        "running": 0,
        "succeeded": 0,
        "failed": 0,
        "cancelled": 0,
    }
    assert [row["target_sparsity"] for row in sweep["table"]] == [0.5, 0.75, 0.9]
    assert sweep["baseline"] is None and sweep["recommended"] is None
    assert [row["job_id"] for row in sweep["table"]] == sweep["jobs"]
    for row in sweep["table"]:
        job = client.get(f"/v1/jobs/{row['job_id']}").json()
        assert job["kind"] == "prune" and job["sweep_id"] == sweep["id"]
        assert job["status"] == "queued" and row["status"] == "queued"
        assert job["hparams"]["target_sparsity"] == row["target_sparsity"]
        assert job["hparams"]["pruning_frequency"] == 7
        assert job["training"]["steps"] == 20
    listed = client.get("/v1/sweeps").json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == sweep["id"]


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"sparsities": [0.5]}, 422, None),
        ({"sparsities": [i / 20 for i in range(17)]}, 422, None),
        ({"sparsities": [0.5, 0.5]}, 422, None),
        ({"sparsities": [0.5, 1.0]}, 422, None),
        ({"sparsities": [-0.1, 0.5]}, 422, None),
        ({"hparams": {"pruning_frequency": 0}}, 422, "invalid_hparams"),
        ({"hparams": "target_sparsity=0.5,nonsense"}, 422, "invalid_hparams"),
        ({"training": {"loss": "no_such_loss"}}, 422, "invalid_training"),
        ({"exports": ["onnx"]}, 422, None),
        ({"max_accuracy_drop": -1}, 422, None),
        ({"max_accuracy_drop": True}, 422, None),
        ({"sparsities": [False, 0.5]}, 422, None),
        ({"dataset_id": "ds_missing"}, 404, "dataset_not_found"),
    ],
)
def test_one_bad_value_queues_nothing(
    client: TestClient,
    model_id: str,
    dataset_id: str,
    redis_url: str,
    overrides: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    tenant = tenant_id_of(client)
    queue = redis.Redis.from_url(redis_url)
    queued_before = queue.llen(GPU_QUEUE)
    body = {**sweep_body(model_id, dataset_id), **overrides}
    assert_error(client.post("/v1/sweeps", json=body), status, code)
    assert stored_counts(tenant) == (0, 0)
    assert queue.llen(GPU_QUEUE) == queued_before


def test_a_sweep_counts_as_its_jobs_towards_the_quota(
    client: TestClient, model_id: str, dataset_id: str, settings_update: Any
) -> None:
    settings_update({"tenant_max_concurrent_jobs": 3})
    submit(client, model_id, dataset_id)
    error = assert_error(
        client.post("/v1/sweeps", json=sweep_body(model_id, dataset_id)), 429, "job_quota_exceeded"
    )
    assert error["details"] == {"limit": 3, "active": 1, "incoming": 3}
    assert stored_counts(tenant_id_of(client)) == (1, 0)
    submit_sweep(client, model_id, dataset_id, sparsities=[0.5, 0.9])
    assert_error(submit(client, model_id, dataset_id), 429, "job_quota_exceeded")


def rows_by_sparsity(sweep: dict[str, Any]) -> dict[float, dict[str, Any]]:
    return {row["target_sparsity"]: row for row in sweep["table"]}


def test_the_table_fills_in_as_jobs_end_and_a_failed_job_keeps_its_error(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    sweep = submit_sweep(client, model_id, dataset_id)
    jobs = {row["target_sparsity"]: row["job_id"] for row in sweep["table"]}
    mark_running(jobs[0.5])
    mark_succeeded(jobs[0.5], {}, job_metrics(0.5, 0.958, 0.13))
    mark_running(jobs[0.75])
    midway = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert midway["status"] == "running"
    assert midway["counts"]["succeeded"] == 1 and midway["counts"]["running"] == 1
    assert midway["baseline"] == BASELINE
    assert rows_by_sparsity(midway)[0.75]["accuracy"] is None
    partial = client.get(f"/v1/sweeps/{sweep['id']}/report.png")
    assert partial.status_code == 200 and partial.content.startswith(b"\x89PNG")

    mark_succeeded(jobs[0.75], {}, job_metrics(0.75, 0.951, 0.16))  # 0.9 points down
    mark_failed(jobs[0.9], "trainer_crashed", "the trainer died")
    done = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert done["status"] == "succeeded"
    assert done["counts"] == {
        "queued": 0,
        "running": 0,
        "succeeded": 2,
        "failed": 1,
        "cancelled": 0,
    }
    rows = rows_by_sparsity(done)
    assert rows[0.75] | {"error": None} == {
        "target_sparsity": 0.75,
        "job_id": jobs[0.75],
        "status": "succeeded",
        "achieved_sparsity": 0.749,
        "accuracy": 0.951,
        "loss": 0.16,
        "params_nonzero": 1250,
        "pruned_gzip_bytes": 8000,
        "exports": None,
        "error": None,
    }
    assert rows[0.9]["status"] == "failed" and rows[0.9]["accuracy"] is None
    assert rows[0.9]["error"] == {"code": "trainer_crashed", "message": "the trainer died"}
    assert done["recommended"] == jobs[0.75]


@pytest.mark.parametrize(
    ("max_drop", "expected"), [(1.0, 0.75), (0.5, 0.5), (0.1, None), (30.0, 0.9)]
)
def test_the_recommendation_is_the_highest_sparsity_within_the_allowed_drop(
    client: TestClient, model_id: str, dataset_id: str, max_drop: float, expected: float | None
) -> None:
    sweep = submit_sweep(client, model_id, dataset_id, max_accuracy_drop=max_drop)
    jobs = {row["target_sparsity"]: row["job_id"] for row in sweep["table"]}
    # Drops of 0.2, 0.9 and 25 points below the baseline's 0.96.
    for sparsity, accuracy in ((0.5, 0.958), (0.75, 0.951), (0.9, 0.71)):
        mark_running(jobs[sparsity])
        mark_succeeded(jobs[sparsity], {}, job_metrics(sparsity, accuracy, 0.2))
    done = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert done["status"] == "succeeded"
    assert done["recommended"] == (None if expected is None else jobs[expected])


def test_a_sweep_whose_jobs_all_failed_is_failed(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    sweep = submit_sweep(client, model_id, dataset_id, sparsities=[0.5, 0.8])
    for job_id in sweep["jobs"]:
        mark_failed(job_id, "out_of_memory", "the trainer used too much memory")
    done = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert done["status"] == "failed"
    assert done["counts"]["failed"] == 2 and done["recommended"] is None
    assert all(row["error"]["code"] == "out_of_memory" for row in done["table"])


def test_cancel_stops_the_unfinished_jobs_and_delete_waits_for_them(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    sweep = submit_sweep(client, model_id, dataset_id)
    jobs = {row["target_sparsity"]: row["job_id"] for row in sweep["table"]}
    mark_running(jobs[0.5])
    mark_succeeded(jobs[0.5], {}, job_metrics(0.5, 0.958, 0.13))
    mark_running(jobs[0.75])

    response = client.post(f"/v1/sweeps/{sweep['id']}/cancel")
    assert response.status_code == 202, response.text
    cancelling = response.json()
    assert cancelling["status"] == "running"  # the running job stops when its worker notices
    assert rows_by_sparsity(cancelling)[0.9]["status"] == "cancelled"
    assert rows_by_sparsity(cancelling)[0.5]["status"] == "succeeded"
    assert client.get(f"/v1/jobs/{jobs[0.75]}").json()["cancel_requested"] is True
    error = assert_error(client.delete(f"/v1/sweeps/{sweep['id']}"), 409, "sweep_active")
    assert error["details"] == {"jobs": [jobs[0.75]]}

    mark_cancelled(jobs[0.75])  # as the worker does once the trainer has stopped
    ended = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert ended["status"] == "cancelled"
    assert ended["counts"] == {
        "queued": 0,
        "running": 0,
        "succeeded": 1,
        "failed": 0,
        "cancelled": 2,
    }
    assert ended["recommended"] == jobs[0.5]
    assert_error(client.post(f"/v1/sweeps/{sweep['id']}/cancel"), 409, "sweep_finished")

    assert client.delete(f"/v1/sweeps/{sweep['id']}").status_code == 204
    assert_error(client.get(f"/v1/sweeps/{sweep['id']}"), 404, "sweep_not_found")
    for job_id in jobs.values():
        assert_error(client.get(f"/v1/jobs/{job_id}"), 404, "job_not_found")


def test_another_tenants_sweep_does_not_exist(
    client: TestClient, other_client: TestClient, model_id: str, dataset_id: str
) -> None:
    sweep = submit_sweep(client, model_id, dataset_id)
    for method, path in [
        ("GET", ""),
        ("GET", "/report.png"),
        ("POST", "/cancel"),
        ("DELETE", ""),
    ]:
        response = other_client.request(method, f"/v1/sweeps/{sweep['id']}{path}")
        assert_error(response, 404, "sweep_not_found")
    assert other_client.get("/v1/sweeps").json() == {"data": [], "count": 0}
    response = other_client.post("/v1/sweeps", json=sweep_body(model_id, dataset_id))
    assert_error(response, 404, "model_not_found")
    assert client.get(f"/v1/sweeps/{sweep['id']}").json()["status"] == "queued"
