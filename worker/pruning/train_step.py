"""The compiled optimizer step with masking: gradients masked before the optimizer step,
weights masked after it, so a pruned weight stays exactly zero whatever momentum or weight
decay do. The step does no Python or NumPy work beyond one call.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.model_rules import recurrent_saved_model_error
from worker.pruning.contract.training_config import TrainingConfig
from worker.pruning.distillation import Distiller
from worker.pruning.prunable_model import PrunableModel

# What TensorFlow says when a graph takes gradients through a while loop restored from a
# SavedModel that reads variables in its body (a Keras 3 export() of an LSTM).
HANDLE_DATA_ERROR = "of a variable without handle data"


def build_optimizer(config: TrainingConfig) -> keras.optimizers.Optimizer:
    """weight_decay is Keras's decoupled decay; by default only AdamW decays."""
    weight_decay = config.resolved_weight_decay()
    common: dict[str, Any] = {
        "learning_rate": config.learning_rate,
        "weight_decay": weight_decay or None,
    }
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(momentum=config.momentum, **common)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(momentum=config.momentum, **common)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(**{**common, "weight_decay": weight_decay})
    return keras.optimizers.Adam(**common)


def model_loss(
    model: PrunableModel,
    loss_fn: Any,
    x: dict[str, Any],
    y: Any,
    training: bool,
    distiller: Distiller | None = None,
):
    outputs = tf.cast(model.forward(x, training=training), tf.float32)
    loss = loss_fn(y, outputs)
    if distiller is not None:
        loss = distiller.blend(loss, outputs, x)
    extra = model.extra_losses() if training else []
    return loss + tf.add_n(extra) if extra else loss


def _masked(gradient: Any, mask: tf.Variable | None) -> Any:
    if mask is None or gradient is None:
        return gradient
    if isinstance(gradient, tf.IndexedSlices):  # Embedding tables: mask only the rows touched
        rows = tf.gather(mask, gradient.indices)
        return tf.IndexedSlices(gradient.values * rows, gradient.indices, gradient.dense_shape)
    return gradient * mask


def variables_with_gradients(
    model: PrunableModel, loss_fn: Any, x: dict[str, Any], y: Any, prunable: list[tuple[str, Any]]
) -> list[Any]:
    """The trainable variables that get a gradient on one batch; refuse if a prunable one doesn't.

    Some prunable weights without a gradient are refused too, naming them, rather than
    silently left dense: the user decides with do_not_prune.
    """
    variables = model.trainable_variables()
    with tf.GradientTape() as tape:
        # Inference mode: no BatchNorm statistics move before the baseline evaluation.
        loss = model_loss(model, loss_fn, x, y, training=False)
    gradients = tape.gradient(loss, variables)
    has_gradient = {id(v) for v, g in zip(variables, gradients, strict=True) if g is not None}
    missing = [name for name, v in prunable if id(v) not in has_gradient]
    where = f"through signature {model.signature_name!r}"
    if missing and len(missing) == len(prunable):
        raise PruningError(
            "no_gradient",
            f"none of the {len(prunable)} prunable weights receives a gradient {where}: the "
            "model's function does not let training change them (stop_gradient, a frozen "
            "graph or integer ops?), so it cannot be fine-tuned",
            {"weights": missing},
        )
    if missing:
        raise PruningError(
            "no_gradient",
            f"{len(missing)} prunable weights receive no gradient {where}: "
            f"{', '.join(missing)}; add them to do_not_prune to prune the others",
            {"weights": missing},
        )
    return [v for v in variables if id(v) in has_gradient]


class TrainStep:
    """One optimizer step, compiled once for the dataset's element spec."""

    def __init__(
        self,
        model: PrunableModel,
        loss_fn: Any,
        optimizer: keras.optimizers.Optimizer,
        variables: list[Any],
        masked: list[tuple[Any, tf.Variable]],
        element_spec: Any,
        distiller: Distiller | None = None,
    ) -> None:
        self._model, self._loss_fn, self._optimizer = model, loss_fn, optimizer
        self._distiller = distiller
        self._variables = variables
        mask_of = {id(v): mask for v, mask in masked}
        self._masks = [mask_of.get(id(v)) for v in variables]
        self._masked = masked
        self._loss_sum = tf.Variable(0.0, trainable=False, dtype=tf.float32)
        self._loss_count = tf.Variable(0.0, trainable=False, dtype=tf.float32)
        self._step = tf.function(self._train_step, input_signature=list(element_spec))
        self._take_sums = tf.function(self._take_sums_and_rate)

    def __call__(self, x: dict[str, tf.Tensor], y: tf.Tensor) -> None:
        try:
            self._step(x, y)
        except ValueError as exc:
            # The upload check refuses these; this is the last line of defence, at tracing.
            if HANDLE_DATA_ERROR in str(exc):
                raise recurrent_saved_model_error() from exc
            raise

    def _train_step(self, x: dict[str, tf.Tensor], y: tf.Tensor) -> None:
        with tf.GradientTape() as tape:
            loss = model_loss(self._model, self._loss_fn, x, y, True, self._distiller)
        gradients = tape.gradient(loss, self._variables)
        gradients = [_masked(g, m) for g, m in zip(gradients, self._masks, strict=True)]
        self._optimizer.apply_gradients(zip(gradients, self._variables, strict=True))
        for variable, mask in self._masked:
            variable.assign(variable * mask)
        self._loss_sum.assign_add(loss)
        self._loss_count.assign_add(1.0)

    def take_report(self) -> tuple[float | None, float]:
        """(mean training loss since the last call, learning rate), in one device sync."""
        loss_sum, count, learning_rate = (float(v) for v in self._take_sums().numpy())
        return (None if count == 0 else loss_sum / count), learning_rate

    def _take_sums_and_rate(self) -> tf.Tensor:
        taken = tf.stack(
            [
                self._loss_sum.read_value(),
                self._loss_count.read_value(),
                tf.cast(self._optimizer.learning_rate, tf.float32),
            ]
        )
        with tf.control_dependencies([taken]):
            self._loss_sum.assign(0.0)
            self._loss_count.assign(0.0)
        return taken
