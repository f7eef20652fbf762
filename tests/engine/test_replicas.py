"""One job on two devices (the CPU split in two logical devices) prunes as on one device."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from tests.engine.jobs import EXACT_HPARAMS, REPO, prune_argv, run_cli

pytestmark = pytest.mark.slow

TWO_DEVICES = ["--devices", "cpu", "--logical-cpus", "2"]
# SGD, not Adam: Adam divides out the gradient's scale, so a wrongly scaled loss would pass.
TRAINING = {
    "steps": 45,
    "batch_size": 33,  # odd: the two replicas get 16 and 17 examples
    "learning_rate": 0.05,
    "optimizer": "sgd",
    "momentum": 0.9,
}


def build_model_without_batch_norm() -> keras.Model:
    # BatchNorm's moving statistics are each replica's own: see the README's "Deploying on GPU
    # hosts".
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((8, 8, 1), name="image"),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv1"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(32, activation="relu", name="fc1"),
            keras.layers.Dense(10, name="logits"),
        ],
        name="digits_no_bn",
    )


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replicas") / "digits.keras"
    build_model_without_batch_norm().save(path)
    return path


def _two_device_run(argv: list[str], copies: Path) -> dict:
    """The trainer on two logical CPUs, saving each replica's masks and weights to `copies`."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.engine.replica_masks", str(copies), *argv, *TWO_DEVICES],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((Path(argv[argv.index("--out") + 1]) / "metrics.json").read_text())


def _weights(out: Path) -> list[np.ndarray]:
    return [np.asarray(w) for w in keras.models.load_model(out / "model.keras").weights]


def _layer_sparsity(metrics: dict) -> dict[str, float]:
    return {layer["name"]: layer["achieved"] for layer in metrics["sparsity"]["layers"]}


CHANNELS = {
    "target_sparsity": 0.5,
    "sparsity_function_end_step": 20,
    "pruning_frequency": 5,
    "pruning_unit": "channel",
}


@pytest.mark.parametrize(
    ("hparams", "training"),
    [
        (EXACT_HPARAMS, TRAINING),
        (CHANNELS, {**TRAINING, "steps": 30, "distillation": {"alpha": 0.5}}),
    ],
    ids=["weights", "channels-distilled"],
)
def test_two_replicas_prune_as_one_device(
    model_file: Path, digits_npz: Path, tmp_path: Path, hparams: dict, training: dict
) -> None:
    code, events = run_cli(prune_argv(model_file, digits_npz, tmp_path / "one", hparams, training))
    assert code == 0, events[-1]
    one = events[-1]
    copies = tmp_path / "copies.npz"
    two = _two_device_run(
        prune_argv(model_file, digits_npz, tmp_path / "two", hparams, training), copies
    )

    assert (one["training"]["replicas"], two["training"]["replicas"]) == (1, 2)
    assert _layer_sparsity(two) == _layer_sparsity(one)
    assert two["sparsity"]["achieved"] == one["sparsity"]["achieved"]
    assert two["params"] == one["params"]  # channel pruning: the same channels removed
    for dense, mirrored in zip(_weights(tmp_path / "one"), _weights(tmp_path / "two"), strict=True):
        np.testing.assert_array_equal(mirrored == 0, dense == 0)  # the same weights pruned
        np.testing.assert_allclose(mirrored, dense, atol=1e-4)

    saved = np.load(copies)
    names = {key.split("/", 1)[1].rsplit("/", 1)[0] for key in saved.files}
    assert set(_layer_sparsity(one)) <= names
    for name in names:
        masks = [saved[f"mask/{name}/{replica}"] for replica in (0, 1)]
        weights = [saved[f"weight/{name}/{replica}"] for replica in (0, 1)]
        np.testing.assert_array_equal(masks[0], masks[1])
        np.testing.assert_array_equal(weights[0], weights[1])
        assert not weights[0][masks[0] == 0].any()


def test_a_saved_model_trains_on_one_device_and_says_so(
    module_dir: Path, digits_npz: Path, tmp_path: Path
) -> None:
    argv = prune_argv(module_dir, digits_npz, tmp_path / "out", training={"steps": 5})
    metrics = _two_device_run(argv, tmp_path / "copies.npz")
    assert metrics["training"]["replicas"] == 1
    assert any("trained on one device (CPU:0)" in warning for warning in metrics["warnings"])
