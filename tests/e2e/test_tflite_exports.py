"""A real job asking for both TFLite exports: the downloaded files, run by the TFLite
interpreter, keep the sparsity and match the accuracy and sizes the metrics report."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tests.e2e import builders
from tests.e2e.conftest import Service
from tests.e2e.jobs_api import download, events, submit, upload
from worker.pruning.tflite_format import stored_weights

TARGET = 0.75
HPARAMS = {
    "target_sparsity": TARGET,
    "block_height": 16,  # 1x16 input blocks: the shape both exports run sparse
    "block_width": 1,
    "threshold_decay": 0.0,
    "pruning_frequency": 5,
    "sparsity_function_end_step": 30,
}
TRAINING = {"steps": 60, "batch_size": 32, "loss": "sparse_categorical_crossentropy"}
EXPORTS = ["tflite", "tflite_int8"]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def interpreter_accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> float:
    runner = tf.lite.Interpreter(model_path=str(path)).get_signature_runner("serving_default")
    (input_name,) = runner.get_input_details()
    (logits,) = runner(**{input_name: x}).values()
    return float(np.mean(np.argmax(logits, axis=1) == y))


def test_a_job_with_both_exports(service: Service, tmp_path: Path) -> None:
    data = builders.digits_npz(tmp_path / "digits.npz")
    arrays = np.load(data)
    with service.client() as client:
        model = upload(client, "models", builders.keras_file(tmp_path / "model.keras"))
        dataset = upload(client, "datasets", data)
        body = {
            "model_id": model["id"],
            "dataset_id": dataset["id"],
            "hparams": HPARAMS,
            "training": TRAINING,
            "exports": EXPORTS,
        }
        job = submit(client, body)
        assert job["exports"] == EXPORTS and job["warnings"] == []
        list(events(client, job["id"]))
        final = client.get(f"/v1/jobs/{job['id']}").json()
        assert final["status"] == "succeeded", (final, service.log_tail())
        metrics = final["metrics"]
        for export in EXPORTS:
            url = f"/v1/jobs/{job['id']}/model?format={export}"
            path = download(client, url, tmp_path / f"{export}.tflite")
            entry = metrics["exports"][export]
            content = path.read_bytes()
            assert entry["bytes"] == len(content) < entry["dense_bytes"]
            assert entry["gzip_bytes"] == len(
                gzip.compress(content, 6, mtime=0)
            )  # level 6, as `gzip`
            weights = stored_weights(content, decode=True)
            assert len(weights) == entry["sparse_tensors"] == 2 and entry["dense_tensors"] == 0
            for weight in weights:
                assert weight.sparse
                assert np.mean(weight.values == 0) >= TARGET - 0.01
            accuracy = interpreter_accuracy(path, arrays["x_val"], arrays["y_val"])
            assert entry["accuracy"] == pytest.approx(accuracy, abs=1e-6)
            assert entry["latency_ms"]["runs"] >= 50
        float_accuracy = metrics["exports"]["tflite"]["accuracy"]
        assert float_accuracy == pytest.approx(metrics["pruned"]["accuracy"], abs=0.01)
