"""A real pruning job on an LSTM .keras model: its kernel and recurrent kernel come back
pruned in the downloaded .keras file, its bias dense."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from tests.e2e import builders
from tests.e2e.conftest import Service
from tests.e2e.jobs_api import download, events, submit, upload

TARGET = 0.75
HPARAMS = {
    "target_sparsity": TARGET,
    "threshold_decay": 0.0,
    "pruning_frequency": 4,
    "sparsity_function_end_step": 20,
}
TRAINING = {"steps": 30, "batch_size": 32, "loss": "sparse_categorical_crossentropy"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def lstm_file(dest: Path) -> Path:
    """Digits read row by row: 8 steps of 8 pixels."""
    keras.utils.set_random_seed(0)
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((64,), name="pixels"),
            layers.Reshape((8, 8)),
            layers.LSTM(16, name="lstm"),
            layers.Dense(10, name="logits"),
        ]
    )
    model.save(dest)
    return dest


def zero_fraction(values: np.ndarray) -> float:
    return float(np.mean(values == 0))


def test_lstm_job_prunes_the_recurrent_kernels(service: Service, tmp_path: Path) -> None:
    with service.client() as client:
        model = upload(client, "models", lstm_file(tmp_path / "lstm.keras"))
        assert {w["name"] for w in model["prunable"]} == {
            "lstm/lstm_cell/kernel",
            "lstm/lstm_cell/recurrent_kernel",
            "logits/kernel",
        }
        dataset = upload(client, "datasets", builders.digits_npz(tmp_path / "digits.npz"))
        body = {
            "model_id": model["id"],
            "dataset_id": dataset["id"],
            "hparams": HPARAMS,
            "training": TRAINING,
        }
        job = submit(client, body)
        stream = list(events(client, job["id"]))
        final = client.get(f"/v1/jobs/{job['id']}").json()
        assert final["status"] == "succeeded", (final, service.log_tail())
        assert stream[-1].data["status"] == "succeeded"
        layers = {layer["name"] for layer in final["metrics"]["sparsity"]["layers"]}
        assert layers == {w["name"] for w in model["prunable"]}
        pruned = download(
            client, f"/v1/jobs/{job['id']}/model?format=keras", tmp_path / "pruned.keras"
        )
    cell = keras.models.load_model(pruned, compile=False).get_layer("lstm").cell
    assert zero_fraction(cell.kernel.numpy()) == pytest.approx(TARGET, abs=0.02)
    assert zero_fraction(cell.recurrent_kernel.numpy()) == pytest.approx(TARGET, abs=0.02)
    assert zero_fraction(cell.bias.numpy()) < 0.5
