"""A real channel-pruning job through HTTP and a real Celery worker: the downloaded .keras and
SavedModel are smaller, by the parameter counts the job reports."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.e2e import builders
from tests.e2e.conftest import Service
from tests.e2e.jobs_api import download, events, submit, upload

HPARAMS = {
    "pruning_unit": "channel",
    "target_sparsity": 0.5,
    "threshold_decay": 0.0,
    "pruning_frequency": 5,
    "sparsity_function_end_step": 20,
}
TRAINING = {"steps": 30, "batch_size": 32, "distillation": {"alpha": 0.5, "temperature": 4.0}}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _params(variables) -> int:
    return sum(math.prod(int(d) for d in v.shape) for v in variables)


def test_channel_job_downloads_smaller_models(service: Service, tmp_path: Path) -> None:
    data = builders.digits_npz(tmp_path / "digits.npz")
    with service.client() as client:
        dataset = upload(client, "datasets", data)
        model = upload(client, "models", builders.keras_file(tmp_path / "model.keras"))
        job = submit(
            client,
            {
                "model_id": model["id"],
                "dataset_id": dataset["id"],
                "hparams": HPARAMS,
                "training": TRAINING,
            },
        )
        list(events(client, job["id"]))
        final = client.get(f"/v1/jobs/{job['id']}").json()
        assert final["status"] == "succeeded", (final, service.log_tail())
        structure = final["metrics"]["structure"]
        assert structure["channels"] == [
            {"layer": "hidden", "before": 64, "after": 32},
            {"layer": "logits", "before": 10, "after": 10},
        ]
        keras_path = download(
            client, f"/v1/jobs/{job['id']}/model?format=keras", tmp_path / "pruned.keras"
        )
        archive = download(client, f"/v1/jobs/{job['id']}/model?format=zip", tmp_path / "out.zip")
    restored = keras.models.load_model(keras_path)
    assert restored.count_params() == structure["params_after"] == 64 * 32 + 32 + 32 * 10 + 10
    assert structure["params_before"] == 64 * 64 + 64 + 64 * 10 + 10
    zipfile.ZipFile(archive).extractall(tmp_path / "pruned")
    loaded = tf.saved_model.load(str(tmp_path / "pruned" / "saved_model"))
    serve = loaded.signatures["serving_default"]
    assert _params(serve.variables) == structure["params_after"]
    x_val = np.load(data)["x_val"]
    (served,) = serve(pixels=tf.constant(x_val)).values()
    np.testing.assert_allclose(served.numpy(), restored.predict(x_val, verbose=0), atol=1e-4)
