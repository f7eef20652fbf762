"""A job's results: 409 until it has succeeded, then streamed with their sha256 as ETag."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_error, submit, upload
from tests.api.files import ModelFiles
from tests.api.job_states import mark_running, mark_succeeded

METRICS = {
    "baseline": {"loss": 1.4, "accuracy": 0.25},
    "pruned": {"loss": 1.3, "accuracy": 0.3},
    "sparsity": {"target": 0.8, "achieved": 0.8, "layers": []},
}
RESULT_PATHS = ["model", "model?format=tar.gz", "metrics", "tensorboard", "report.png"]


@pytest.fixture
def result_files(tmp_path: Path, model_files: ModelFiles) -> dict[str, Path]:
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps(METRICS))
    png = tmp_path / "report.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return {
        "saved_model.zip": model_files.zip,
        "saved_model.tar.gz": model_files.tar_gz,
        "metrics.json": metrics,
        "report.png": png,
    }


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("path", RESULT_PATHS)
def test_results_are_409_until_the_job_succeeds(
    client: TestClient, model_id: str, dataset_id: str, path: str
) -> None:
    job_id = submit(client, model_id, dataset_id).json()["id"]
    error = assert_error(client.get(f"/v1/jobs/{job_id}/{path}"), 409, "job_not_succeeded")
    assert "queued" in error["message"]
    mark_running(job_id)
    assert_error(client.get(f"/v1/jobs/{job_id}/{path}"), 409, "job_not_succeeded")


def test_results_of_a_succeeded_job(
    client: TestClient, model_id: str, dataset_id: str, result_files: dict[str, Path]
) -> None:
    job_id = submit(client, model_id, dataset_id).json()["id"]
    mark_succeeded(job_id, result_files, METRICS)

    for query, kind, filename in [
        ("", "saved_model.zip", f"{job_id}-saved_model.zip"),
        ("?format=tar.gz", "saved_model.tar.gz", f"{job_id}-saved_model.tar.gz"),
    ]:
        with client.stream("GET", f"/v1/jobs/{job_id}/model{query}") as response:
            assert response.status_code == 200
            body = b"".join(response.iter_bytes())
        expected = sha256_of(result_files[kind])
        assert hashlib.sha256(body).hexdigest() == expected
        assert response.headers["etag"] == f'"{expected}"'
        assert response.headers["content-length"] == str(len(body))
        assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
        cached = client.get(
            f"/v1/jobs/{job_id}/model{query}", headers={"If-None-Match": f'"{expected}"'}
        )
        assert cached.status_code == 304

    assert client.get(f"/v1/jobs/{job_id}/metrics").json() == METRICS
    report = client.get(f"/v1/jobs/{job_id}/report.png")
    assert report.headers["content-type"] == "image/png"
    assert report.content == result_files["report.png"].read_bytes()
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded" and job["metrics"] == METRICS


def test_a_result_the_worker_did_not_store_is_404(
    client: TestClient, model_id: str, dataset_id: str, result_files: dict[str, Path]
) -> None:
    job_id = submit(client, model_id, dataset_id).json()["id"]
    mark_succeeded(job_id, result_files, METRICS)
    assert_error(client.get(f"/v1/jobs/{job_id}/tensorboard"), 404, "artifact_not_found")


def test_keras_format_only_for_keras_uploads(
    client: TestClient,
    model_id: str,
    dataset_id: str,
    model_files: ModelFiles,
    result_files: dict[str, Path],
) -> None:
    saved_model_job = submit(client, model_id, dataset_id).json()["id"]
    error = assert_error(
        client.get(f"/v1/jobs/{saved_model_job}/model?format=keras"), 404, "format_unavailable"
    )
    assert "format=zip" in error["message"]
    assert_error(client.get(f"/v1/jobs/{saved_model_job}/model?format=rar"), 422, "invalid_request")

    keras_model = upload(client, "models", model_files.keras).json()["id"]
    keras_job = submit(client, keras_model, dataset_id).json()["id"]
    assert_error(client.get(f"/v1/jobs/{keras_job}/model?format=keras"), 409, "job_not_succeeded")
    mark_succeeded(keras_job, {**result_files, "model.keras": model_files.keras}, METRICS)
    response = client.get(f"/v1/jobs/{keras_job}/model", params={"format": "keras"})
    assert response.status_code == 200
    assert response.content == model_files.keras.read_bytes()
    assert response.headers["content-disposition"].endswith('-model.keras"')
