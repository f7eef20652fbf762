"""Loss and metrics of a model on held-out data, in inference mode."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from worker.pruning.objectives import MetricFactory
from worker.pruning.prunable_model import PrunableModel


def evaluate(
    model: PrunableModel,
    loss_fn: Any,
    metrics: dict[str, MetricFactory],
    batches: tf.data.Dataset,
) -> dict[str, float]:
    """{"loss": mean loss per example, <metric name>: value} over every batch."""
    mean_loss = keras.metrics.Mean()
    states = {name: factory() for name, factory in metrics.items()}

    @tf.function(input_signature=list(batches.element_spec))
    def update(x: dict[str, tf.Tensor], y: tf.Tensor) -> None:
        outputs = tf.cast(model.forward(x, training=False), tf.float32)
        mean_loss.update_state(loss_fn(y, outputs), sample_weight=tf.shape(y)[0])
        for state in states.values():
            state.update_state(y, outputs)

    for x, y in batches:
        update(x, y)
    results = {"loss": float(mean_loss.result())}
    results.update({name: float(state.result()) for name, state in states.items()})
    return results
