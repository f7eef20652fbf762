"""Training options a user sets, seen in the job's results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.engine.jobs import EXACT_HPARAMS, prune_argv, run_cli


def _metrics(argv: list[str]) -> dict:
    code, events = run_cli(argv)
    assert code == 0, events[-1]
    return events[-1]


@pytest.mark.slow
def test_multi_input_model_with_embedding(mixed_keras_file, mixed_npz, tmp_path) -> None:
    metrics = _metrics(
        prune_argv(mixed_keras_file, mixed_npz, tmp_path, training={"steps": 40, "batch_size": 16})
    )
    layers = {layer["name"]: layer for layer in metrics["sparsity"]["layers"]}
    assert abs(layers["embedding/embeddings"]["achieved"] - 0.8) <= 0.02
    assert abs(metrics["sparsity"]["achieved"] - 0.8) <= 0.02


def test_from_logits_auto_follows_the_outputs(module_dir, digits_npz, tmp_path) -> None:
    for signature, logits in (("serving_default", True), ("probabilities", False)):
        argv = prune_argv(
            module_dir,
            digits_npz,
            tmp_path / signature,
            training={"steps": 5, "signature": signature},
        )
        assert _metrics(argv)["training"]["from_logits"] is logits


def test_global_scope_reaches_the_target_overall(module_dir, digits_npz, tmp_path) -> None:
    hparams = {**EXACT_HPARAMS, "pruning_scope": "global"}
    metrics = _metrics(prune_argv(module_dir, digits_npz, tmp_path, hparams=hparams))
    achieved = [layer["achieved"] for layer in metrics["sparsity"]["layers"]]
    assert abs(metrics["sparsity"]["achieved"] - 0.8) <= 0.02
    assert max(achieved) - min(achieved) > 0.02  # one threshold, different layers
    assert len({layer["threshold"] for layer in metrics["sparsity"]["layers"]}) == 1


def test_given_validation_data_and_epochs(module_dir, digits, tmp_path: Path) -> None:
    x, y = digits
    data = tmp_path / "data.npz"
    np.savez(data, x_train=x[:300], y_train=y[:300], x_val=x[300:], y_val=y[300:])
    metrics = _metrics(prune_argv(module_dir, data, tmp_path / "out", training={"epochs": 2}))
    assert metrics["training"]["validation_source"] == "x_val"
    assert metrics["training"]["validation_examples"] == 100
    assert metrics["training"]["steps"] == 2 * 10  # ceil(300 / 32) per epoch


def test_schedule_that_cannot_finish_warns_at_start(module_dir, digits_npz, tmp_path) -> None:
    code, events = run_cli(prune_argv(module_dir, digits_npz, tmp_path, training={"steps": 10}))
    assert code == 0
    (warning,) = events[0]["warnings"]
    assert "will not be reached" in warning
    assert events[-1]["warnings"] == [warning]
