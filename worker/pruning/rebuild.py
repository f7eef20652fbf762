"""The model without its removed channels (PRUNING.md section 9): gone from the producing layer,
from the BatchNormalization and depthwise layers that follow it, and from the input dimension
of every consumer; checked to compute what the masked model computed."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from worker.pruning.channel_groups import ChannelGraph
from worker.pruning.channel_masks import ChannelPruner
from worker.pruning.contract import channel_rules as rules
from worker.pruning.contract.errors import PruningError

# How far the rebuilt model's outputs may differ from the masked model's (float32 sums in a
# different order), relative to the outputs' largest magnitude.
RELATIVE_TOLERANCE = 1e-4


def _layer_configs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    for entry in config["layers"]:
        entry.pop("build_config", None)  # the old shapes; layers build from their new inputs
    return {entry["config"]["name"]: entry["config"] for entry in config["layers"]}


def rebuilt_config(model: keras.Model, pruner: ChannelPruner) -> dict[str, Any]:
    config = model.get_config()
    graph = pruner.graph
    for name, layer_config in _layer_configs(config).items():
        if name not in graph.outputs:
            continue
        kept = len(pruner.kept_channels(name))
        if name in graph.producers:
            layer_config["filters" if "filters" in layer_config else "units"] = kept
        elif "target_shape" in layer_config:
            layer_config["target_shape"] = [*layer_config["target_shape"][:-1], kept]
    return config


def _take(array: np.ndarray, axis: int, keep: list[int]) -> np.ndarray:
    return np.take(array, keep, axis=axis)


def _sliced_weights(layer: keras.layers.Layer, pruner: ChannelPruner) -> list[np.ndarray]:
    graph: ChannelGraph = pruner.graph
    kind = type(layer).__name__
    values = [v.numpy() for v in layer.weights]
    if layer.name not in graph.outputs or not values:
        return values
    keep_in = pruner.kept_channels(layer.name, of_input=True)
    keep_out = pruner.kept_channels(layer.name)
    out = []
    for variable, value in zip(layer.weights, values, strict=True):
        short = variable.path.rsplit("/", 1)[-1]
        if kind in rules.COUPLED:
            value = _take(value, -2 if short == "kernel" else -1, keep_in)
        elif kind in rules.PRODUCERS:
            if short == "pointwise_kernel":
                multiplier = value.shape[-2] // len(graph.inputs[layer.name])
                rows = [c * multiplier + j for c in keep_in for j in range(multiplier)]
                value = _take(_take(value, -2, rows), -1, keep_out)
            elif short == "depthwise_kernel":
                value = _take(value, -2, keep_in)
            elif short == "kernel":
                value = _take(_take(value, -2, keep_in), -1, keep_out)
            elif short == "bias":
                value = _take(value, -1, keep_out)
        out.append(value)
    return out


def rebuild(model: keras.Model, pruner: ChannelPruner) -> keras.Model:
    smaller = type(model).from_config(rebuilt_config(model, pruner))
    for layer in model.layers:
        if layer.weights:
            smaller.get_layer(layer.name).set_weights(_sliced_weights(layer, pruner))
    return smaller


def outputs_of(model: keras.Model, x: Any, batch_size: int = 256) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def check_equivalent(masked: keras.Model, rebuilt: keras.Model, x: Any) -> float:
    """The largest output difference on `x`; a 500-free refusal if beyond float tolerance."""
    before, after = outputs_of(masked, x), outputs_of(rebuilt, x)
    difference = float(np.max(np.abs(before - after))) if before.size else 0.0
    scale = max(1.0, float(np.max(np.abs(before)))) if before.size else 1.0
    if difference > RELATIVE_TOLERANCE * scale:
        raise PruningError(
            "rebuild_mismatch",
            f"the model rebuilt without the removed channels differs from the masked model by "
            f"{difference:.3g} on the validation split; the job is not exported",
        )
    return difference
