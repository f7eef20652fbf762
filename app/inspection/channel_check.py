"""Whether channel pruning can trace a .keras model, read from its config (no TensorFlow), by
the engine's own rules (worker/pruning/contract/channel_rules.py)."""

from __future__ import annotations

from typing import Any

from app.inspection.keras_allowlist import MODEL_CLASSES
from app.inspection.keras_layers import KerasLayer
from worker.pruning.contract.channel_rules import layer_refusal


def _input_rank(entry: dict[str, Any]) -> int | None:
    build = entry.get("build_config")
    shape = build.get("input_shape") if isinstance(build, dict) else None
    if isinstance(shape, list) and all(d is None or isinstance(d, int) for d in shape):
        return len(shape)
    return None


def channel_refusal(layers: list[KerasLayer]) -> dict[str, str] | None:
    """{"layer", "message"} for the first layer channel pruning cannot trace, or None."""
    for layer in layers:
        if len(layer.path) == 1 or layer.class_name == "InputLayer":
            continue  # the model itself
        name = layer.path[-1]
        if len(layer.path) > 2 or layer.class_name in MODEL_CLASSES:
            reason = "a nested model or wrapped layer; save the model flat"
        else:
            reason = layer_refusal(layer.class_name, layer.config, _input_rank(layer.entry))
        if reason is not None:
            return {
                "layer": name,
                "message": f"channel pruning cannot trace layer {name!r} "
                f"({layer.class_name}): {reason}",
            }
    return None
