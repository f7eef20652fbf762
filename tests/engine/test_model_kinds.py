"""Every model kind of PRUNING.md section 5, end to end through the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.engine.jobs import EXACT_HPARAMS, SHORT_TRAINING, prune_argv, run_cli
from worker.pruning.keras_adapter import KerasPrunableModel
from worker.pruning.saved_model_adapter import SavedModelPrunableModel

KINDS = ["keras_file", "keras_export_dir", "module_dir", "tf_keras_dir"]
pytestmark = pytest.mark.slow


class Job:
    def __init__(self, model: Path, out: Path, code: int, events: list[dict[str, Any]]) -> None:
        self.model, self.out, self.code, self.events = model, out, code, events

    @property
    def metrics(self) -> dict[str, Any]:
        return self.events[-1]

    def input_signatures(self) -> dict[str, Any]:
        adapter = (
            KerasPrunableModel(str(self.model))
            if self.model.suffix == ".keras"
            else SavedModelPrunableModel(str(self.model))
        )
        return {name: sig.to_json() for name, sig in adapter.signatures().items()}


@pytest.fixture(scope="module", params=KINDS)
def job(request: pytest.FixtureRequest, digits_npz: Path, tmp_path_factory) -> Job:
    model = request.getfixturevalue(request.param)
    out = tmp_path_factory.mktemp(f"out_{request.param}")
    code, events = run_cli(prune_argv(model, digits_npz, out))
    return Job(model, out, code, events)


def test_job_prints_started_progress_then_metrics(job: Job) -> None:
    assert job.code == 0, job.events[-1]
    kinds = [e["event"] for e in job.events]
    assert kinds[0] == "started" and kinds[-1] == "metrics"
    assert set(kinds[1:-1]) == {"progress"}
    assert job.events[0] == {"event": "started", "total_steps": 45, "warnings": []}
    last = job.events[-2]
    assert last["step"] == last["total_steps"] == 45
    assert {"epoch", "loss", "layers", "steps_per_second", "eta_seconds"} <= set(last)
    # One progress event at each of the 9 mask updates (steps 0, 5, ..., 40) at least.
    updates = {e["step"] for e in job.events if e["event"] == "progress"}
    assert set(range(0, 45, 5)) <= updates


def test_achieved_sparsity_matches_target(job: Job) -> None:
    sparsity = job.metrics["sparsity"]
    assert sparsity["target"] == EXACT_HPARAMS["target_sparsity"]
    assert abs(sparsity["achieved"] - 0.8) <= 0.02
    for layer in sparsity["layers"]:
        assert abs(layer["achieved"] - 0.8) <= 0.02, layer
        assert layer["nonzero"] == round(layer["params"] * (1 - layer["achieved"]))


def test_exported_saved_model_has_the_input_signatures_and_exact_zeros(job: Job) -> None:
    exported = SavedModelPrunableModel(str(job.out / "saved_model"))
    assert {n: s.to_json() for n, s in exported.signatures().items()} == job.input_signatures()
    zeros = {w.name: int(np.sum(w.variable.numpy() == 0.0)) for w in exported.candidate_weights()}
    expected = {layer["params"] - layer["nonzero"] for layer in job.metrics["sparsity"]["layers"]}
    assert expected <= set(zeros.values())
    assert sum(zeros.values()) >= sum(expected)


def test_export_holds_no_mask_variables(job: Job) -> None:
    checkpoint = str(job.out / "saved_model" / "variables" / "variables")
    saved = [key for key, _ in tf.train.list_variables(checkpoint) if not key.startswith("_")]
    assert len(saved) == job.metrics["params"]["variables"], saved
    assert not [key for key in saved if "mask" in key.lower()]


def test_keras_input_also_gets_a_keras_file(job: Job, digits) -> None:
    keras_out = job.out / "model.keras"
    if job.model.suffix != ".keras":
        assert not keras_out.exists()
        return
    model = keras.models.load_model(keras_out)  # no custom objects
    served = tf.saved_model.load(str(job.out / "saved_model")).signatures["serving_default"]
    images = tf.constant(digits[0][:16])
    np.testing.assert_allclose(
        model(images, training=False).numpy(),
        served(image=images)["output_0"].numpy(),
        rtol=1e-5,
        atol=1e-5,
    )


def test_metrics_evaluate_before_and_after(job: Job) -> None:
    for phase in ("baseline", "pruned"):
        assert 0.0 <= job.metrics[phase]["accuracy"] <= 1.0
        assert np.isfinite(job.metrics[phase]["loss"])
    assert job.metrics["training"]["steps"] == SHORT_TRAINING["steps"]
