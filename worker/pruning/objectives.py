"""The loss and metrics a job trains and evaluates with, built from the `training` config."""

from __future__ import annotations

import functools
from collections.abc import Callable

import keras
import numpy as np

from worker.pruning.contract.training_config import TrainingConfig

_CLASSIFICATION_LOSSES: dict[str, type[keras.losses.Loss]] = {
    "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
    "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
    "binary_crossentropy": keras.losses.BinaryCrossentropy,
}
_REGRESSION_LOSSES: dict[str, type[keras.losses.Loss]] = {
    "mean_squared_error": keras.losses.MeanSquaredError,
    "mse": keras.losses.MeanSquaredError,
    "mean_absolute_error": keras.losses.MeanAbsoluteError,
    "mae": keras.losses.MeanAbsoluteError,
    "huber": keras.losses.Huber,
    "log_cosh": keras.losses.LogCosh,
}
_ACCURACIES: dict[str, type[keras.metrics.Metric]] = {
    "sparse_categorical_crossentropy": keras.metrics.SparseCategoricalAccuracy,
    "categorical_crossentropy": keras.metrics.CategoricalAccuracy,
}
_ERROR_METRICS: dict[str, type[keras.metrics.Metric]] = {
    "mse": keras.metrics.MeanSquaredError,
    "mean_squared_error": keras.metrics.MeanSquaredError,
    "mae": keras.metrics.MeanAbsoluteError,
    "mean_absolute_error": keras.metrics.MeanAbsoluteError,
}
# How far a row of probabilities may sum from 1 and still count as a softmax output.
_SOFTMAX_TOLERANCE = 1e-3

MetricFactory = Callable[[], keras.metrics.Metric]


def outputs_look_like_logits(loss: str, outputs: np.ndarray) -> bool:
    """from_logits "auto": probabilities lie in [0, 1] (and sum to 1 per row for softmax)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.size == 0:
        return False
    if outputs.min() < 0.0 or outputs.max() > 1.0:
        return True
    if loss == "binary_crossentropy" or outputs.ndim < 2 or outputs.shape[-1] == 1:
        return False
    return not np.allclose(outputs.sum(axis=-1), 1.0, atol=_SOFTMAX_TOLERANCE)


def resolve_from_logits(config: TrainingConfig, sample_outputs: np.ndarray) -> bool:
    if not config.is_classification:
        return False
    if config.from_logits == "auto":
        return outputs_look_like_logits(config.loss, sample_outputs)
    return bool(config.from_logits)


def build_loss(config: TrainingConfig, from_logits: bool) -> keras.losses.Loss:
    if config.loss in _CLASSIFICATION_LOSSES:
        return _CLASSIFICATION_LOSSES[config.loss](from_logits=from_logits)
    return _REGRESSION_LOSSES[config.loss]()


def metric_factories(config: TrainingConfig, from_logits: bool) -> dict[str, MetricFactory]:
    """One fresh-metric factory per requested metric name, keyed by that name."""
    factories: dict[str, MetricFactory] = {}
    for name in config.resolved_metrics():
        if name == "accuracy" and config.loss == "binary_crossentropy":
            factories[name] = functools.partial(
                keras.metrics.BinaryAccuracy, threshold=0.0 if from_logits else 0.5
            )
        elif name == "accuracy":
            factories[name] = _ACCURACIES[config.loss]
        else:
            factories[name] = _ERROR_METRICS[name]
    return factories
