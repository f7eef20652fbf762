"""A Pruner doing its mask maths in TensorFlow ops (as it does for weights on a GPU) prunes a
model exactly as the NumPy path does: same weights, masks, thresholds and sparsities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.keras_adapter import KerasPrunableModel
from worker.pruning.pruner import Pruner
from worker.pruning.weight_selection import select_weights

HPARAMS = [
    {
        "target_sparsity": 0.8,
        "threshold_decay": 0.5,
        "sparsity_function_end_step": 40,
        "pruning_frequency": 10,
    },
    {
        "target_sparsity": 0.8,
        "threshold_decay": 0.0,
        "pruning_scope": "global",
        "sparsity_function_end_step": 40,
        "pruning_frequency": 10,
    },
    {
        "target_sparsity": 0.7,
        "threshold_decay": 0.0,
        "sparsity_function_end_step": 40,
        "pruning_frequency": 10,
        "block_dims_map": ["logits:4x3"],
        "block_pooling_function": "MAX",
    },
]


def _pruned(keras_file: Path, raw: dict, on_device: bool) -> tuple[Pruner, list[np.ndarray]]:
    hparams = parse_hparams(raw)
    model = KerasPrunableModel(str(keras_file))
    pruner = Pruner(
        select_weights(model.candidate_weights(), hparams), hparams, lambda _: on_device
    )
    rng = np.random.default_rng(0)
    for step in range(0, 50, 10):
        for weight in pruner.weights:  # as if training moved the kept weights
            value = weight.weight.variable.numpy()
            noise = rng.normal(scale=0.01, size=value.shape).astype(value.dtype)
            weight.weight.variable.assign(np.where(value != 0, value + noise, value))
        pruner.update(step)
    return pruner, [w.weight.variable.numpy() for w in pruner.weights]


@pytest.mark.parametrize("raw", HPARAMS)
def test_device_maths_prune_exactly_as_numpy(keras_file: Path, raw: dict) -> None:
    numpy_pruner, numpy_weights = _pruned(keras_file, raw, on_device=False)
    device_pruner, device_weights = _pruned(keras_file, raw, on_device=True)
    assert numpy_pruner.global_achieved() > 0.6
    assert device_pruner.thresholds == numpy_pruner.thresholds
    assert device_pruner.achieved == numpy_pruner.achieved
    for device, expected in zip(device_weights, numpy_weights, strict=True):
        assert device.tobytes() == expected.tobytes()
    for device, expected in zip(device_pruner.masks, numpy_pruner.masks, strict=True):
        assert device.numpy().tobytes() == expected.numpy().tobytes()
