"""pruning_unit "channel" at submission (PRUNING.md section 9): refused with a 422 when the
engine could not trace the model, before anything is queued."""

from __future__ import annotations

from pathlib import Path

import keras
from fastapi.testclient import TestClient

from tests.api.conftest import assert_error, submit, upload
from tests.api.files import N_CLASSES, N_FEATURES, ModelFiles

CHANNELS = {"pruning_unit": "channel", "target_sparsity": 0.5}


def _uploaded(client: TestClient, path: Path) -> str:
    response = upload(client, "models", path)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_traceable_keras_model_is_queued(
    client: TestClient, model_files: ModelFiles, dataset_id: str
) -> None:
    model_id = _uploaded(client, model_files.keras)
    response = submit(client, model_id, dataset_id, hparams=CHANNELS)
    assert response.status_code == 202, response.text
    assert response.json()["hparams"]["pruning_unit"] == "channel"
    assert response.json()["hparams"]["channel_criterion"] == "l2"


def test_a_saved_model_is_refused_saying_why(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    error = assert_error(
        submit(client, model_id, dataset_id, hparams=CHANNELS), 422, "unsupported_model"
    )
    assert "not a Keras model" in error["message"] and ".keras" in error["message"]


def test_an_untraceable_layer_is_refused_by_name(
    client: TestClient, dataset_id: str, tmp_path: Path
) -> None:
    model = keras.Sequential(
        [
            keras.Input((N_FEATURES,), name="features"),
            keras.layers.Dense(16, activation="relu", name="hidden"),
            keras.layers.RepeatVector(2, name="twice"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(N_CLASSES, name="logits"),
        ]
    )
    model.save(tmp_path / "repeat.keras")
    model_id = _uploaded(client, tmp_path / "repeat.keras")
    error = assert_error(
        submit(client, model_id, dataset_id, hparams=CHANNELS), 422, "channel_untraceable"
    )
    assert "'twice'" in error["message"] and "RepeatVector" in error["message"]
    assert error["details"] == {"layer": "twice"}
    # The same model is fine for weight pruning.
    assert submit(client, model_id, dataset_id).status_code == 202


def test_channels_do_not_combine_with_blocks_or_m_by_n(
    client: TestClient, model_files: ModelFiles, dataset_id: str
) -> None:
    model_id = _uploaded(client, model_files.keras)
    for extra in ({"block_height": 2}, {"sparsity_m_by_n": "2:4"}):
        error = assert_error(
            submit(client, model_id, dataset_id, hparams={**CHANNELS, **extra}),
            422,
            "invalid_hparams",
        )
        assert "pruning_unit" in str(error) and "does not combine" in error["message"]
