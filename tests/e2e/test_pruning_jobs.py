"""Real pruning jobs through HTTP: upload, submit, follow the SSE stream, download, check."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.e2e import builders
from tests.e2e.conftest import Service
from tests.e2e.jobs_api import download, events, submit, upload
from tests.processes import processes_mentioning

TARGET = 0.8
HPARAMS = {
    "target_sparsity": TARGET,
    "threshold_decay": 0.0,
    "pruning_frequency": 5,
    "sparsity_function_end_step": 30,  # the ramp ends well before training does
}
TRAINING = {"steps": 50, "batch_size": 32, "loss": "sparse_categorical_crossentropy"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-jobs")


@pytest.fixture(scope="module")
def dataset_id(service: Service, workdir: Path) -> str:
    with service.client() as client:
        return str(upload(client, "datasets", builders.digits_npz(workdir / "digits.npz"))["id"])


@pytest.fixture(scope="module")
def validation(workdir: Path, dataset_id: str) -> tuple[np.ndarray, np.ndarray]:
    arrays = np.load(workdir / "digits.npz")
    return arrays["x_val"], arrays["y_val"]


MODEL_BUILDERS: dict[str, Callable[[Path], Path]] = {
    "keras_export": lambda d: builders.keras_export_zip(d / "keras_export.zip", d),
    "keras_file": lambda d: builders.keras_file(d / "model.keras"),
    "tf_module": lambda d: builders.tf_module_zip(d / "tf_module.zip", d),
}


def zero_fraction(values: np.ndarray) -> float:
    return float(np.mean(values == 0))


def check_saved_model(
    saved_model: Path, metrics: dict, validation: tuple[np.ndarray, np.ndarray]
) -> None:
    loaded = tf.saved_model.load(str(saved_model))  # owns the variables: keep it referenced
    serve = loaded.signatures["serving_default"]
    kernels = [v.numpy() for v in serve.variables if len(v.shape) >= 2]
    assert len(kernels) == len(metrics["sparsity"]["layers"]) == 2
    for kernel in kernels:
        assert zero_fraction(kernel) == pytest.approx(TARGET, abs=0.02)
    x_val, y_val = validation
    (input_name,) = serve.structured_input_signature[1]
    (logits,) = serve(**{input_name: tf.constant(x_val)}).values()
    accuracy = float(np.mean(np.argmax(logits.numpy(), axis=1) == y_val))
    loss = float(
        tf.keras.losses.sparse_categorical_crossentropy(y_val, logits, from_logits=True)
        .numpy()
        .mean()
    )
    assert metrics["pruned"]["accuracy"] == pytest.approx(accuracy, abs=1e-3)
    assert metrics["pruned"]["loss"] == pytest.approx(loss, rel=1e-3)


@pytest.mark.parametrize("kind", sorted(MODEL_BUILDERS))
def test_pruning_job_end_to_end(
    kind: str,
    service: Service,
    workdir: Path,
    dataset_id: str,
    validation: tuple[np.ndarray, np.ndarray],
) -> None:
    folder = workdir / kind
    folder.mkdir()
    with service.client() as client:
        model = upload(client, "models", MODEL_BUILDERS[kind](folder))
        job = submit(
            client,
            {
                "model_id": model["id"],
                "dataset_id": dataset_id,
                "hparams": HPARAMS,
                "training": TRAINING,
            },
        )
        stream = list(events(client, job["id"]))
        response = client.get(f"/v1/jobs/{job['id']}")
        assert response.status_code == 200, (response.text, service.log_tail())
        final = response.json()
        assert final["status"] == "succeeded", (final, service.log_tail())

        ids = [event.id for event in stream]
        assert ids == sorted(set(ids))
        progress = [event.data for event in stream if event.type == "progress"]
        assert progress and progress[-1]["step"] == TRAINING["steps"]
        assert stream[-1].type == "status" and stream[-1].data["status"] == "succeeded"

        metrics = client.get(f"/v1/jobs/{job['id']}/metrics").json()
        assert metrics == final["metrics"]
        archive = download(client, f"/v1/jobs/{job['id']}/model?format=zip", folder / "out.zip")
        zipfile.ZipFile(archive).extractall(folder / "pruned")
        check_saved_model(folder / "pruned" / "saved_model", metrics, validation)

        if kind == "keras_file":
            keras_path = download(
                client, f"/v1/jobs/{job['id']}/model?format=keras", folder / "pruned.keras"
            )
            restored = keras.models.load_model(keras_path)
            for layer in restored.layers:
                assert zero_fraction(layer.kernel.numpy()) == pytest.approx(TARGET, abs=0.02)


def test_cancelling_a_running_job(service: Service, workdir: Path, dataset_id: str) -> None:
    model_path = builders.keras_file(workdir / "cancel.keras")
    with service.client() as client:
        model = upload(client, "models", model_path)
        long_training = {**TRAINING, "steps": 100_000}
        job = submit(
            client,
            {
                "model_id": model["id"],
                "dataset_id": dataset_id,
                "hparams": HPARAMS,
                "training": long_training,
            },
        )
        stream = events(client, job["id"])
        for event in stream:
            if event.type == "progress":
                break
        assert processes_mentioning(job["id"]), "no trainer running for the job"
        response = client.post(f"/v1/jobs/{job['id']}/cancel")
        assert response.status_code == 202, response.text
        asked = time.monotonic()
        rest = list(stream)
        assert time.monotonic() - asked < 10
        assert rest[-1].type == "status" and rest[-1].data["status"] == "cancelled"
        assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "cancelled"
        assert client.get(f"/v1/jobs/{job['id']}/model").status_code == 409
    assert not processes_mentioning(job["id"])
