"""Which weights a job may prune (PRUNING.md section 4), decided from what the upload says about
each weight: its Keras layer class in a .keras file, otherwise (a SavedModel) its shape, name
and use in the graph, by the engine's rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.inspection.tensor_specs import FLOAT_DTYPES, Shape, element_count
from worker.pruning.prunable_model import PRUNABLE_VARIABLE_KIND, saved_variable_kind

_CONV_CLASSES = (
    "Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose Conv3DTranspose "
    "Convolution1D Convolution2D Convolution3D Convolution1DTranspose Convolution2DTranspose "
    "Convolution3DTranspose Deconvolution2D Deconvolution3D"
).split()
# Keras layer class -> the attribute names of its prunable weights.
KERAS_PRUNABLE: dict[str, frozenset[str]] = {
    "Dense": frozenset({"kernel"}),
    **{name: frozenset({"kernel"}) for name in _CONV_CLASSES},
    "SeparableConv1D": frozenset({"pointwise_kernel"}),
    "SeparableConv2D": frozenset({"pointwise_kernel"}),
    "SeparableConvolution1D": frozenset({"pointwise_kernel"}),
    "SeparableConvolution2D": frozenset({"pointwise_kernel"}),
    "Embedding": frozenset({"embeddings"}),
}


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


def is_prunable(weight: Weight) -> bool:
    if not weight.trainable or weight.dtype not in FLOAT_DTYPES:
        return False
    if weight.layer_class is not None:
        return weight.attribute in KERAS_PRUNABLE.get(weight.layer_class, frozenset())
    rank = 0 if weight.shape is None else len(weight.shape)
    return saved_variable_kind(weight.name, rank, weight.depthwise) == PRUNABLE_VARIABLE_KIND


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
