"""What a user reads: inspection, metrics.json, TensorBoard; do_not_prune layers stay dense."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.engine.jobs import EXACT_HPARAMS, prune_argv, run_cli

DENSE_LAYER_HPARAMS = {**EXACT_HPARAMS, "do_not_prune": ["fc1"], "name": "shears"}


@pytest.fixture(scope="module")
def job_out(keras_file: Path, digits_npz: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    code, events = run_cli(prune_argv(keras_file, digits_npz, out, hparams=DENSE_LAYER_HPARAMS))
    assert code == 0, events[-1]
    return out


def test_inspect_keras_file(keras_file: Path) -> None:
    code, (report,) = run_cli(["inspect", keras_file])
    assert code == 0
    signature = {
        "inputs": {"image": {"shape": [None, 8, 8, 1], "dtype": "float32"}},
        "outputs": {"output_0": {"shape": [None, 10], "dtype": "float32"}},
    }
    assert report == {
        "format": "keras",
        "signatures": {"serve": signature, "serving_default": signature},
        "signature": "serving_default",
        "prunable": [
            {"name": "conv1/kernel", "shape": [3, 3, 1, 4], "params": 36},
            {"name": "fc1/kernel", "shape": [144, 32], "params": 4608},
            {"name": "logits/kernel", "shape": [32, 10], "params": 320},
        ],
        "depthwise": [],
        # + biases 4, 32, 10 and BatchNormalization 4 x 32
        "params_total": 36 + 4608 + 320 + 4 + 32 + 10 + 128,
        "params_prunable": 36 + 4608 + 320,
    }


def test_inspect_saved_model_lists_signatures(module_dir: Path) -> None:
    code, (report,) = run_cli(["inspect", module_dir])
    assert code == 0
    assert report["format"] == "saved_model"
    assert report["signatures"]["probabilities"]["outputs"] == {
        "probabilities": {"shape": [None, 10], "dtype": "float32"}
    }
    assert [(w["name"], w["params"]) for w in report["prunable"]] == [
        ("hidden", 2048),
        ("out", 320),
    ]
    assert report["params_total"] == 2048 + 32 + 320 + 1


def test_metrics_json_has_the_documented_shape(job_out: Path, keras_file: Path) -> None:
    metrics = json.loads((job_out / "metrics.json").read_text())
    assert set(metrics["baseline"]) == set(metrics["pruned"]) == {"loss", "accuracy"}
    assert {"target", "achieved", "layers"} <= set(metrics["sparsity"])
    for layer in metrics["sparsity"]["layers"]:
        assert {"name", "shape", "params", "nonzero", "target", "achieved"} <= set(layer)
    assert {"total", "prunable", "nonzero"} <= set(metrics["params"])
    assert metrics["params"]["prunable"] == 36 + 320
    assert metrics["params"]["nonzero"] < metrics["params"]["total"]
    sizes = metrics["size"]
    assert set(sizes) == {
        "upload_bytes",
        "dense_bytes",
        "dense_gzip_bytes",
        "pruned_bytes",
        "pruned_gzip_bytes",
    }
    assert all(v > 0 for v in sizes.values())
    assert sizes["upload_bytes"] == keras_file.stat().st_size
    assert sizes["pruned_gzip_bytes"] < sizes["pruned_bytes"]
    training = metrics["training"]
    assert training["steps"] == 45 and training["steps_per_second"] > 0
    assert training["epochs"] == pytest.approx(45 / 12)  # 360 training examples, batch 32


def test_do_not_prune_layer_stays_dense(job_out: Path) -> None:
    metrics = json.loads((job_out / "metrics.json").read_text())
    assert [layer["name"] for layer in metrics["sparsity"]["layers"]] == [
        "conv1/kernel",
        "logits/kernel",
    ]
    model = keras.models.load_model(job_out / "model.keras")
    assert np.count_nonzero(model.get_layer("fc1").kernel.numpy()) == 144 * 32
    assert np.mean(model.get_layer("logits").kernel.numpy() == 0) == pytest.approx(0.8)


def test_tensorboard_has_contrib_summaries(job_out: Path) -> None:
    tags: dict[str, list[int]] = {}
    for path in (job_out / "tensorboard").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    assert {
        "shears/conv1/kernel/sparsity",
        "shears/conv1/kernel/threshold",
        "shears/logits/kernel/sparsity",
        "shears/target_sparsity",
        "shears/global_sparsity",
        "loss",
        "learning_rate",
    } <= set(tags)
    assert sorted(tags["shears/global_sparsity"]) == list(range(0, 45, 5))
