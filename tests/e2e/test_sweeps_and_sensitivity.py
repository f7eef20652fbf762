"""A real sweep and a real sensitivity job: the API, a Celery worker and the trainer on digits."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import keras
import numpy as np
import pytest

from tests.e2e import builders
from tests.e2e.conftest import Service
from tests.e2e.jobs_api import download, events, upload
from worker.pruning.contract.hparams import parse_hparams

SPARSITIES = [0.9, 0.5, 0.75]
HPARAMS = {"threshold_decay": 0.0, "pruning_frequency": 5, "sparsity_function_end_step": 30}
TRAINING = {"steps": 40, "batch_size": 32}
MAX_DROP = 1.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-sweeps")


@pytest.fixture(scope="module")
def dataset_id(service: Service, workdir: Path) -> str:
    with service.client() as client:
        return str(upload(client, "datasets", builders.digits_npz(workdir / "digits.npz"))["id"])


def wait_until_ended(client: httpx.Client, sweep_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sweep = client.get(f"/v1/sweeps/{sweep_id}").json()
        if sweep["status"] not in ("queued", "running"):
            return sweep
        time.sleep(1)
    raise AssertionError(f"sweep {sweep_id} still {sweep['status']} after {timeout}s")


def expected_recommendation(sweep: dict[str, Any]) -> str | None:
    floor = sweep["baseline"]["accuracy"] - MAX_DROP / 100
    within = [row for row in sweep["table"] if row["accuracy"] >= floor - 1e-9]
    return max(within, key=lambda row: row["target_sparsity"])["job_id"] if within else None


def test_a_sweep_runs_a_job_per_sparsity_and_tabulates_their_metrics(
    service: Service, workdir: Path, dataset_id: str
) -> None:
    with service.client() as client:
        model = upload(client, "models", builders.keras_file(workdir / "model.keras"))
        body = {
            "model_id": model["id"],
            "dataset_id": dataset_id,
            "sparsities": SPARSITIES,
            "hparams": HPARAMS,
            "training": TRAINING,
            "max_accuracy_drop": MAX_DROP,
        }
        response = client.post("/v1/sweeps", json=body)
        assert response.status_code == 202, response.text
        sweep = wait_until_ended(client, response.json()["id"])
        assert sweep["status"] == "succeeded", service.log_tail()
        assert sweep["counts"]["succeeded"] == 3
        assert [row["target_sparsity"] for row in sweep["table"]] == sorted(SPARSITIES)
        for row in sweep["table"]:
            metrics = client.get(f"/v1/jobs/{row['job_id']}/metrics").json()
            assert row["status"] == "succeeded"
            assert row["achieved_sparsity"] == metrics["sparsity"]["achieved"]
            assert row["achieved_sparsity"] == pytest.approx(row["target_sparsity"], abs=0.02)
            assert row["accuracy"] == metrics["pruned"]["accuracy"]
            assert row["loss"] == metrics["pruned"]["loss"]
            assert row["params_nonzero"] == metrics["params"]["nonzero"]
            assert row["pruned_gzip_bytes"] == metrics["size"]["pruned_gzip_bytes"]
            assert sweep["baseline"] == {
                "loss": metrics["baseline"]["loss"],
                "accuracy": metrics["baseline"]["accuracy"],
            }
        assert sweep["recommended"] == expected_recommendation(sweep)

        sparsest = sweep["table"][-1]
        path = download(
            client, f"/v1/jobs/{sparsest['job_id']}/model?format=keras", workdir / "p.keras"
        )
        kernels = [w for w in keras.saving.load_model(path).get_weights() if w.ndim == 2]
        zeros = sum(int(np.sum(k == 0)) for k in kernels) / sum(k.size for k in kernels)
        assert zeros == pytest.approx(sparsest["achieved_sparsity"], abs=0.01)

        report = client.get(f"/v1/sweeps/{sweep['id']}/report.png")
        assert report.status_code == 200 and report.headers["content-type"] == "image/png"
        assert report.content.startswith(b"\x89PNG") and len(report.content) > 10_000


def test_sensitivity_finds_the_fragile_layer_and_spares_it(
    service: Service, workdir: Path, dataset_id: str
) -> None:
    with service.client() as client:
        model = upload(client, "models", builders.bottleneck_keras_file(workdir / "b.keras"))
        body = {"dataset_id": dataset_id, "sparsities": [0.5, 0.75, 0.9]}
        response = client.post(f"/v1/models/{model['id']}/sensitivity", json=body)
        assert response.status_code == 202, response.text
        job = response.json()
        assert job["kind"] == "sensitivity"
        seen = list(events(client, job["id"]))
        assert [e.data["status"] for e in seen if e.type == "status"][-1] == "succeeded", (
            service.log_tail()
        )
        progress = [e.data for e in seen if e.type == "progress"]
        assert progress[-1]["step"] == progress[-1]["total_steps"] == 9

        metrics = client.get(f"/v1/jobs/{job['id']}/metrics").json()
        layers = {layer["name"]: layer for layer in metrics["layers"]}
        assert set(layers) == {"wide/kernel", "code/kernel", "head/kernel"}
        assert layers["head/kernel"]["params"] == 40
        assert [r["sparsity"] for r in layers["head/kernel"]["results"]] == [0.5, 0.75, 0.9]
        head_drop = layers["head/kernel"]["results"][0]["drop"]
        wide_drop = layers["wide/kernel"]["results"][0]["drop"]
        assert head_drop > 5 > 1 > wide_drop, (head_drop, wide_drop)
        for result in layers["wide/kernel"]["results"]:
            expected = (metrics["baseline"]["accuracy"] - result["accuracy"]) * 100
            assert result["drop"] == pytest.approx(expected, abs=1e-3)

        suggested = metrics["suggested_hparams"]
        assert "^head/kernel$" in suggested["do_not_prune"]
        assert any(entry.startswith("^wide/kernel$:") for entry in suggested["weight_sparsity_map"])
        parse_hparams(suggested)  # a job or a sweep takes it as it is

        report = client.get(f"/v1/jobs/{job['id']}/report.png")
        assert report.status_code == 200 and report.content.startswith(b"\x89PNG")
