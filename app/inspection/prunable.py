"""Which weights a job may prune (PRUNING.md section 4), decided from what the upload says about
each weight: its Keras layer class in a .keras file, otherwise (a SavedModel) its shape, name
and use in the graph, by the rule book the engine uses too (`contract.model_rules`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.inspection.tensor_specs import Shape, element_count
from worker.pruning.contract.model_rules import (
    FLOAT_DTYPES,
    keras_layer_weights,
    prunable_by_default,
    saved_variable_kind,
)


@dataclass(frozen=True)
class Weight:
    name: str
    shape: Shape
    dtype: str
    trainable: bool
    # Set for the weights of a .keras file: then the Keras rules apply.
    layer_class: str | None = None
    attribute: str | None = None
    # Seen in the graph as a depthwise-convolution filter.
    depthwise: bool = False
    # Read inside a while loop of the graph (a recurrent layer).
    in_loop: bool = False


def is_prunable(weight: Weight) -> bool:
    if not weight.trainable or weight.dtype not in FLOAT_DTYPES:
        return False
    if weight.layer_class is not None:
        kind = keras_layer_weights([weight.layer_class]).get(weight.attribute or "")
    else:
        rank = 0 if weight.shape is None else len(weight.shape)
        kind = saved_variable_kind(weight.name, rank, weight.depthwise)
    return prunable_by_default(kind)


@dataclass(frozen=True)
class WeightSummary:
    prunable: list[dict[str, Any]]
    params_total: int
    params_prunable: int


def summarize(weights: Iterable[Weight]) -> WeightSummary:
    """Parameters count the floating-point weights, trainable or not (as Keras' count_params)."""
    prunable = []
    total = prunable_total = 0
    for weight in weights:
        if weight.dtype not in FLOAT_DTYPES:
            continue
        params = element_count(weight.shape)
        total += params
        if is_prunable(weight):
            prunable.append({"name": weight.name, "shape": weight.shape, "params": params})
            prunable_total += params
    return WeightSummary(prunable, total, prunable_total)
