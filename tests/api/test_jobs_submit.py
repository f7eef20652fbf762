"""POST /v1/jobs: what a submitted job stores, and every way a submission is refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis
from fastapi.testclient import TestClient

from app.core.queue import GPU_QUEUE
from app.core.settings import get_settings
from tests.api.conftest import assert_error, closed_port, job_body, submit, upload
from tests.api.files import N_FEATURES, make_dataset
from tests.api.job_states import events_of
from worker.pruning.contract.hparams import FIELD_NAMES


def queued_task_args(redis_url: str) -> list[tuple[str, str]]:
    """(task name, args) of every message waiting in the Celery queue."""
    messages = redis.Redis.from_url(redis_url).lrange(GPU_QUEUE, 0, -1)
    headers = [json.loads(message)["headers"] for message in messages]
    return [(h["task"], h["argsrepr"]) for h in headers]


def test_submit_queues_a_job_with_resolved_hparams(
    client: TestClient, model_id: str, dataset_id: str, redis_url: str
) -> None:
    response = submit(client, model_id, dataset_id, name="first try")
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}" == job["links"]["self"]
    assert (job["status"], job["name"], job["attempts"]) == ("queued", "first try", 0)
    assert (job["model_id"], job["dataset_id"]) == (model_id, dataset_id)
    assert set(job["hparams"]) == set(FIELD_NAMES)
    assert job["hparams"]["target_sparsity"] == 0.8
    assert job["hparams"]["pruning_frequency"] == 10 and job["hparams"]["end_pruning_step"] == -1
    assert job["training"]["metrics"] == ["accuracy"] and job["training"]["epochs"] == 1
    assert job["training"]["optimizer"] == "adam"
    # 64 rows in batches of 16 is 4 steps: the default 100-step ramp cannot finish.
    assert len(job["warnings"]) == 1 and "will not be reached" in job["warnings"][0]
    assert job["progress"] is None and job["metrics"] is None and job["error"] is None
    assert job["started_at"] is None and job["created_at"].endswith("Z")
    assert ("prune", repr([job["id"]])) in queued_task_args(redis_url)
    assert events_of(job["id"]) == [("status", {"status": "queued"})]
    assert client.get(f"/v1/jobs/{job['id']}").json() == job


def test_contrib_string_hparams(client: TestClient, model_id: str, dataset_id: str) -> None:
    hparams = (
        "target_sparsity=0.9,do_not_prune=[hidden],pruning_frequency=1,sparsity_function_end_step=3"
    )
    job = submit(client, model_id, dataset_id, hparams=hparams).json()
    assert job["hparams"]["target_sparsity"] == 0.9
    assert job["hparams"]["do_not_prune"] == ["hidden"]
    assert job["hparams"]["pruning_frequency"] == 1
    assert job["warnings"] == []


@pytest.mark.parametrize(
    ("hparams", "field"),
    [
        # Every rule of PRUNING.md section 1, in both forms.
        ({"begin_pruning_step": -1}, "begin_pruning_step"),
        ({"begin_pruning_step": 50, "end_pruning_step": 10}, "end_pruning_step"),
        ({"begin_pruning_step": 10, "end_pruning_step": 10}, "end_pruning_step"),
        ({"end_pruning_step": -2}, "end_pruning_step"),
        ({"sparsity_function_begin_step": 100}, "sparsity_function_end_step"),
        ({"threshold_decay": 1.0}, "threshold_decay"),
        ({"threshold_decay": -0.1}, "threshold_decay"),
        ({"initial_sparsity": 1.0}, "initial_sparsity"),
        ({"target_sparsity": 1.5}, "target_sparsity"),
        ({"target_sparsity": 1.0}, "target_sparsity"),
        ({"weight_sparsity_map": ["hidden:1.0"]}, "weight_sparsity_map"),
        ({"weight_sparsity_map": ["(hidden:0.5"]}, "weight_sparsity_map"),
        ({"pruning_frequency": 0}, "pruning_frequency"),
        ("target_sparsity=0.5,pruning_frequency=0", "pruning_frequency"),
        ({"sparsity_function_exponent": 0}, "sparsity_function_exponent"),
        ({"do_not_prune": ["(unclosed"]}, "do_not_prune"),
        ("do_not_prune=[(unclosed]", "do_not_prune"),
        ({"sparsity_m_by_n": "4:2"}, "sparsity_m_by_n"),
        ({"sparsity_m_by_n": "2:2"}, "sparsity_m_by_n"),
        ({"block_height": 0}, "block_height"),
        ({"block_dims_map": ["hidden:0x4"]}, "block_dims_map"),
        ({"block_dims_map": ["(hidden:2x2"]}, "block_dims_map"),
        ({"block_pooling_function": "MIN"}, "block_pooling_function"),
        ({"pruning_scope": "model"}, "pruning_scope"),
        ({"prune_harder": True}, "prune_harder"),
        ("target_sparsity", "target_sparsity"),
        # JSON's booleans are not numbers, though pydantic's lax mode would read them as 0 and 1.
        ({"sparsity_function_begin_step": False}, "sparsity_function_begin_step"),
        ({"target_sparsity": True}, "target_sparsity"),
    ],
)
def test_invalid_hparams_are_422_naming_the_field(
    client: TestClient, model_id: str, dataset_id: str, hparams: Any, field: str
) -> None:
    error = assert_error(
        submit(client, model_id, dataset_id, hparams=hparams), 422, "invalid_hparams"
    )
    assert field in error["message"]
    assert field in [item["field"] for item in error["details"]]
    assert client.get("/v1/jobs").json()["count"] == 0


def test_unknown_hparams_list_the_valid_names(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    error = assert_error(
        submit(client, model_id, dataset_id, hparams={"sparsity": 0.5}), 422, "invalid_hparams"
    )
    assert "target_sparsity" in error["message"] and "sparsity" in error["message"]


@pytest.mark.parametrize(
    ("training", "field"),
    [
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"steps": -5}, "steps"),
        ({"steps": 0}, "steps"),
        ({"steps": 10**12}, "steps"),
        ({"epochs": -1}, "epochs"),
        ({"epochs": 10**9}, "epochs"),
        ({"batch_size": 10**9}, "batch_size"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"loss": "hinge_of_doom"}, "hinge_of_doom"),
        ({"epochs": 1, "steps": 5}, "epochs or steps"),
        ({"epocs": 3}, "epocs"),
        ({"batch_size": True}, "batch_size"),
        ({"distillation": {"alpha": False}}, "alpha"),
        ({"from_logits": 0}, "from_logits"),
    ],
)
def test_invalid_training_is_422(
    client: TestClient, model_id: str, dataset_id: str, training: dict[str, Any], field: str
) -> None:
    error = assert_error(
        submit(client, model_id, dataset_id, training=training), 422, "invalid_training"
    )
    assert field in error["message"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"model_id": "mdl_x"}, 422, "invalid_request"),
        ({"model_id": "m", "dataset_id": "d", "surprise": 1}, 422, "invalid_request"),
        ({"model_id": "m", "dataset_id": "d", "hparams": 5}, 422, "invalid_request"),
    ],
)
def test_malformed_job_requests(client: TestClient, body: dict, status: int, code: str) -> None:
    error = assert_error(client.post("/v1/jobs", json=body), status, code)
    assert error["details"] and all("field" in item for item in error["details"])


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/v1/jobs", content=b'{"model_id": ', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"x_train": np.zeros((64, N_FEATURES + 3), "float32")}, "shape_mismatch"),
        ({"y_train": np.full(64, 7)}, "label_out_of_range"),
        ({"y_train": np.eye(3, dtype="float32")[np.arange(64) % 3]}, "label_shape_mismatch"),
    ],
    ids=["wrong-feature-count", "labels-past-the-outputs", "one-hot-of-the-wrong-width"],
)
def test_data_that_does_not_fit_the_model_is_422(
    client: TestClient, model_id: str, tmp_path: Path, overrides: dict, code: str
) -> None:
    dataset = upload(client, "datasets", make_dataset(tmp_path / "misfit.npz", **overrides))
    assert dataset.status_code == 201, dataset.text
    error = assert_error(submit(client, model_id, dataset.json()["id"]), 422, code)
    assert "x_train" in error["message"] or "y_train" in error["message"]


def test_an_unknown_signature_is_422(client: TestClient, model_id: str, dataset_id: str) -> None:
    response = submit(client, model_id, dataset_id, training={"signature": "predict_fast"})
    error = assert_error(response, 422, "unknown_signature")
    assert "serving_default" in error["message"]


def test_inputs_of_another_tenant_are_404(
    client: TestClient, other_client: TestClient, model_id: str, dataset_id: str
) -> None:
    assert_error(submit(other_client, model_id, dataset_id), 404, "model_not_found")
    assert_error(submit(client, model_id, "ds_missing"), 404, "dataset_not_found")


def test_a_job_submitted_while_redis_is_down_is_kept_queued(
    client: TestClient, model_id: str, dataset_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
    get_settings.cache_clear()
    try:
        started = time.monotonic()
        response = submit(client, model_id, dataset_id)
        elapsed = time.monotonic() - started
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert response.status_code == 202, response.text
    assert elapsed < 10
    job = client.get(f"/v1/jobs/{response.json()['id']}").json()
    assert job["status"] == "queued"  # the sweeper enqueues it once Redis is back
    assert events_of(job["id"]) == [("status", {"status": "queued"})]


def test_a_huge_json_body_is_413(client: TestClient, model_id: str, dataset_id: str) -> None:
    body = job_body(model_id, dataset_id, name="x" * 100, hparams={"do_not_prune": ["a"] * 600_000})
    assert_error(client.post("/v1/jobs", json=body), 413, "payload_too_large")


def test_a_huge_chunked_json_body_is_413(client: TestClient) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"model_id": "m", "dataset_id": "d", "name": "'
        for _ in range(2048):
            yield b"x" * 1024
        yield b'"}'

    response = client.post("/v1/jobs", content=body(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")


def test_a_dataset_too_small_to_hold_out_validation_is_422(
    client: TestClient, model_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "four_rows.npz"
    np.savez(path, x_train=np.zeros((4, N_FEATURES), "float32"), y_train=np.zeros(4, "int64"))
    dataset_id = upload(client, "datasets", path).json()["id"]
    error = assert_error(submit(client, model_id, dataset_id), 422, "validation_split_impossible")
    assert "x_val" in error["message"]
    accepted = submit(client, model_id, dataset_id, training={"validation_split": 0.25})
    assert accepted.status_code == 202, accepted.text
