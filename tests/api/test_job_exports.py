"""POST /v1/jobs `exports` (API.md, PRUNING.md section 8): what is stored, warned and refused."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import assert_error, submit

ACCELERATED = {"target_sparsity": 0.8, "block_height": 16, "block_width": 1}


def test_exports_are_stored_and_shown(client: TestClient, model_id: str, dataset_id: str) -> None:
    response = submit(client, model_id, dataset_id, exports=["tflite_int8", "tflite"])
    assert response.status_code == 202, response.text
    assert response.json()["exports"] == ["tflite", "tflite_int8"]
    default = submit(client, model_id, dataset_id).json()
    assert default["exports"] == []


def test_unaccelerated_blocks_warn_at_submission(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    job = submit(client, model_id, dataset_id, exports=["tflite", "tflite_int8"]).json()
    block_warnings = [w for w in job["warnings"] if w.startswith("export ")]
    assert len(block_warnings) == 2
    assert "block_height=4, block_width=1" in block_warnings[0]
    assert "block_height=16, block_width=1" in block_warnings[1]
    # 16x1 blocks are also 4x1 blocks: both exports run sparse, no warning.
    job = submit(
        client, model_id, dataset_id, exports=["tflite", "tflite_int8"], hparams=ACCELERATED
    )
    assert not [w for w in job.json()["warnings"] if w.startswith("export ")]


def test_an_unknown_export_is_a_422_naming_the_valid_ones(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    error = assert_error(submit(client, model_id, dataset_id, exports=["onnx"]), 422)
    assert error["code"] == "invalid_exports"
    assert "onnx" in error["message"] and "tflite, tflite_int8" in error["message"]


def test_an_export_not_requested_is_a_404(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    plain = submit(client, model_id, dataset_id).json()["id"]
    error = assert_error(
        client.get(f"/v1/jobs/{plain}/model?format=tflite"), 404, "export_not_requested"
    )
    assert "tflite" in error["message"]
    asked = submit(client, model_id, dataset_id, exports=["tflite"]).json()["id"]
    assert_error(client.get(f"/v1/jobs/{asked}/model?format=tflite"), 409, "job_not_succeeded")
    assert_error(
        client.get(f"/v1/jobs/{asked}/model?format=tflite_int8"), 404, "export_not_requested"
    )
