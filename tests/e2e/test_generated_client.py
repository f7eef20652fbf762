"""A client generated from /openapi.json by a standard generator (openapi-python-client), with
no hand edits, runs the whole first job against the running service: upload a model and a
dataset, submit a job, poll it, download the pruned SavedModel."""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import numpy as np
import pytest
import tensorflow as tf

from tests.e2e import builders
from tests.e2e.conftest import Service

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

PACKAGE = "shears_generated_client"
JOB_SECONDS = 180


@pytest.fixture(scope="module")
def generated(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("generated")
    spec = root / "openapi.json"
    spec.write_text(json.dumps(httpx.get(f"{service.base_url}/openapi.json").json()))
    bin_dir = str(Path(sys.executable).parent)  # the generator formats its output with ruff
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [f"{bin_dir}/openapi-python-client", "generate", "--path", str(spec), "--meta", "none"]
        + ["--output-path", str(root / PACKAGE)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))


def api(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_a_generated_client_runs_the_first_job(
    generated: ModuleType, service: Service, tmp_path: Path
) -> None:
    models, types = api("models"), api("types")
    client = generated.AuthenticatedClient(
        base_url=service.base_url, token=service.api_key, timeout=httpx.Timeout(120.0)
    )
    model_file = builders.keras_file(tmp_path / "model.keras")
    data_file = builders.digits_npz(tmp_path / "digits.npz")

    def upload(operation: str, body_class: str, path: Path):  # noqa: ANN202
        file = types.File(payload=io.BytesIO(path.read_bytes()), file_name=path.name)
        body = getattr(models, body_class)(file=file)
        return api(operation).sync(client=client, body=body)

    model = upload("api.models.upload_model", "UploadModelBody", model_file)
    dataset = upload("api.datasets.upload_dataset", "UploadDatasetBody", data_file)
    assert isinstance(model, models.ModelOut) and model.format_ == "keras"
    assert isinstance(dataset, models.DatasetOut) and dataset.n_train == 1400

    body = models.JobCreate.from_dict(
        {
            "model_id": model.id,
            "dataset_id": dataset.id,
            "hparams": "target_sparsity=0.8,threshold_decay=0,pruning_frequency=5,"
            "sparsity_function_end_step=40",
            "training": {"steps": 60, "batch_size": 32},
        }
    )
    job = api("api.jobs.submit_job").sync(client=client, body=body)
    assert isinstance(job, models.JobOut), job
    deadline = time.monotonic() + JOB_SECONDS
    while job.status not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline, f"job still {job.status}:\n{service.log_tail()}"
        time.sleep(1)
        job = api("api.jobs.get_job").sync(client=client, job_id=job.id)
    assert job.status == "succeeded", job.error

    download = api("api.jobs.download_pruned_model").sync_detailed(client=client, job_id=job.id)
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        archive.extractall(tmp_path / "pruned")
    saved_model = next((tmp_path / "pruned").rglob("saved_model.pb")).parent
    pruned = tf.saved_model.load(str(saved_model))
    serving = pruned.signatures["serving_default"]
    kernels = [v.numpy() for v in serving.variables if v.shape.rank == 2]
    zeros = sum(int(np.count_nonzero(k == 0)) for k in kernels) / sum(k.size for k in kernels)
    assert zeros == pytest.approx(0.8, abs=0.01)
