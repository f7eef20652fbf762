"""Building blocks of bench/channels.py: the residual digits net, channel pruning without
training (for speed), and the three ways to reach a given size on digits (channel pruning,
weight pruning at the same nonzero count, a narrow dense model trained from the start)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import keras
import numpy as np

from bench.models import CLASSES, DIGITS_SHAPE
from bench.pruning_runs import (
    Schedule,
    digits_training,
    held_out_accuracy,
    run_shears,
    shears_hparams,
    train_dense,
)
from worker.pruning.channel_groups import trace_channels
from worker.pruning.channel_masks import ChannelPruner
from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.rebuild import rebuild
from worker.pruning.structure import flops, median_latency_ms, param_total

LATENCY_BATCHES = (1, 32)


def residual_digits_net(k: Any = keras) -> Any:
    """A small residual net with BatchNorm for the 8x8 digits; logits out."""
    layers = k.layers
    image = k.Input(DIGITS_SHAPE, name="images")
    x = layers.Conv2D(32, 3, padding="same", name="stem")(image)
    x = layers.ReLU(name="stem_relu")(layers.BatchNormalization(name="stem_bn")(x))
    y = layers.Conv2D(32, 3, padding="same", activation="relu", name="block_conv1")(x)
    y = layers.BatchNormalization(name="block_bn1")(y)
    y = layers.Conv2D(32, 3, padding="same", name="block_conv2")(y)
    y = layers.BatchNormalization(name="block_bn2")(y)
    x = layers.ReLU(name="block_relu")(layers.Add(name="block_add")([x, y]))
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(128, activation="relu", name="fc")(x)
    return k.Model(image, layers.Dense(CLASSES, name="logits")(x), name="residual_digits")


def channel_hparams(fraction: float, schedule: Schedule) -> dict[str, Any]:
    return {**shears_hparams(fraction, schedule), "pruning_unit": "channel"}


def prune_channels_now(model: keras.Model, fraction: float) -> keras.Model:
    """The rebuilt model after one mask update at the end of the ramp (no training)."""
    hparams = parse_hparams(
        {"pruning_unit": "channel", "target_sparsity": fraction, "threshold_decay": 0.0}
    )
    pruner = ChannelPruner(model, trace_channels(model), [], hparams)
    pruner.update(step=10_000)
    return rebuild(model, pruner)


def speed_row(dense: keras.Model, smaller: keras.Model, fraction: float, runs: int) -> dict:
    row: dict[str, Any] = {
        "channels_removed": fraction,
        "params_ratio": round(param_total(smaller) / param_total(dense), 4),
        "flops_ratio": round(flops(smaller) / flops(dense), 4),
    }
    for batch in LATENCY_BATCHES:
        # Alternate the two models so that load from other work hits both alike.
        before, after = [], []
        for _ in range(3):
            before.append(median_latency_ms(dense, batch, runs))
            after.append(median_latency_ms(smaller, batch, runs))
        row[f"latency_ms_batch{batch}"] = {
            "dense": round(float(np.median(before)), 4),
            "pruned": round(float(np.median(after)), 4),
        }
        row[f"latency_ratio_batch{batch}"] = round(float(np.median(after) / np.median(before)), 4)
    return row


def prunable_params(model: keras.Model) -> int:
    return sum(
        int(np.prod(layer.kernel.shape))
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)
    )


def accuracy_row(
    dense_path: Path,
    data_path: Path,
    arrays: dict[str, np.ndarray],
    fraction: float,
    schedule: Schedule,
    seed: int,
    dense_steps: int,
    workdir: Path,
) -> dict[str, Any]:
    """Channel pruning, weight pruning at the same nonzero count, and a narrow dense model of
    the rebuilt model's shape trained from the start for as many steps as the other two got."""
    training = digits_training(schedule.steps, seed)
    out = workdir / f"channels-{fraction}-{seed}"
    metrics = run_shears(dense_path, data_path, channel_hparams(fraction, schedule), training, out)
    pruned = keras.models.load_model(out / "model.keras")
    shutil.rmtree(out)
    structure = metrics["structure"]
    dense = keras.models.load_model(dense_path)
    removed = structure["params_before"] - structure["params_after"]
    sparsity = min(0.99, removed / prunable_params(dense))
    out = workdir / f"weights-{fraction}-{seed}"
    weights = run_shears(dense_path, data_path, shears_hparams(sparsity, schedule), training, out)
    shutil.rmtree(out)
    keras.utils.set_random_seed(seed)
    narrow = type(pruned).from_config(pruned.get_config())  # fresh weights, same shape
    train_dense(narrow, arrays, dense_steps + schedule.steps, seed)
    return {
        "channels_removed": fraction,
        "seed": seed,
        "params_ratio": round(structure["params_after"] / structure["params_before"], 4),
        "channel_accuracy": metrics["pruned"]["accuracy"],
        "weight_sparsity": round(sparsity, 4),
        "weight_accuracy": weights["pruned"]["accuracy"],
        "narrow_accuracy": held_out_accuracy(narrow, arrays),
    }
