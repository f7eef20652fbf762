"""Recurrent models through the real API: a .keras LSTM lists its recurrent kernels as
prunable; a Keras 3 export() of it, which TensorFlow cannot fine-tune, is refused at upload
with a 422 that says to upload the .keras file, before any job can be queued for it."""

from __future__ import annotations

from pathlib import Path

import keras
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_error, upload
from tests.api.files import tar_dir


def lstm_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    layers = keras.layers
    return keras.Sequential(
        [keras.Input((6, 4), name="seq"), layers.LSTM(8, name="lstm"), layers.Dense(2, name="fc")]
    )


@pytest.fixture(scope="module")
def lstm_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("lstm")
    model = lstm_model()
    model.save(root / "lstm.keras")
    model.export(str(root / "exported"), verbose=False)
    return root / "lstm.keras", tar_dir(root / "exported", root / "lstm.tar.gz", top="exported")


def test_keras_lstm_lists_its_recurrent_kernels(client: TestClient, lstm_files) -> None:
    response = upload(client, "models", lstm_files[0])
    assert response.status_code == 201, response.text
    prunable = {w["name"]: w["shape"] for w in response.json()["prunable"]}
    assert prunable == {
        "lstm/lstm_cell/kernel": [4, 32],
        "lstm/lstm_cell/recurrent_kernel": [8, 32],
        "fc/kernel": [8, 2],
    }


@pytest.mark.usefixtures("nothing_kept")
def test_exported_lstm_is_refused_at_upload(client: TestClient, lstm_files) -> None:
    error = assert_error(upload(client, "models", lstm_files[1]), 422, "recurrent_saved_model")
    assert "model.save('model.keras')" in error["message"]
    assert "lstm_cell/recurrent_kernel" in " ".join(error["details"]["weights"])
