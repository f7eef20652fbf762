"""The compiled optimizer step with masking: gradients masked before the optimizer step,
weights masked after it, so a pruned weight stays exactly zero whatever momentum or weight
decay do. The step does no Python or NumPy work beyond one call. Under a MirroredStrategy
(several devices) each replica takes its slice of the batch and the masks are mirrored.
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
from worker.pruning.replicas import share_of_global_batch, split_batch

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


def replica_loss(
    model: PrunableModel, loss_fn: Any, x: dict[str, Any], y: Any, distiller: Distiller | None
):
    """This replica's part of the global batch's training loss: summed over the replicas it is
    the loss one device computes on the whole batch (a mean per example, regularization once)."""
    replicas = tf.distribute.get_replica_context().num_replicas_in_sync
    outputs = tf.cast(model.forward(x, training=True), tf.float32)
    # A Keras loss in a replica divides its mean by the replicas in sync, as if every slice
    # were the same size: undone, so the mean is this slice's and the share below is exact.
    loss = loss_fn(y, outputs) * replicas
    if distiller is not None:
        loss = distiller.blend(loss, outputs, x)
    loss = loss * share_of_global_batch(tf.shape(outputs)[0])
    extra = model.extra_losses()
    if not extra:
        return loss
    return loss + tf.add_n(extra) / replicas


def _apply_mask(variable: Any, mask: Any) -> Any:
    return variable.assign(variable * mask)


def _tf_variable(variable: Any) -> Any:
    """The tf.Variable (mirrored under a MirroredStrategy) behind a Keras variable."""
    return variable.value if isinstance(variable, keras.Variable) else variable


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

    def gets_gradient() -> tf.Tensor:
        with tf.GradientTape() as tape:
            # Inference mode: no BatchNorm statistics move before the baseline evaluation.
            loss = loss_fn(y, tf.cast(model.forward(x, training=False), tf.float32))
        return tf.constant([g is not None for g in tape.gradient(loss, variables)])

    # In a replica: mirrored variables take gradients only there (any replica answers alike).
    strategy = tf.distribute.get_strategy()
    flags = strategy.experimental_local_results(strategy.run(gets_gradient))[0].numpy()
    has_gradient = {id(v) for v, flag in zip(variables, flags, strict=True) if flag}
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
        # Slots made now, in the strategy's scope: made on a replica's first step they fail.
        optimizer.build(variables)
        mask_of = {id(v): mask for v, mask in masked}
        self._masks = [mask_of.get(id(v)) for v in variables]
        self._masked = masked
        self._strategy = tf.distribute.get_strategy()  # the scope the variables were made in
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
        losses = self._strategy.run(self._replica_step, args=split_batch(self._strategy, (x, y)))
        loss = self._strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)
        for variable, mask in self._masked:
            # Each replica masks its own copy with its own copy of the mask: no transfers.
            self._strategy.extended.update(_tf_variable(variable), _apply_mask, args=(mask,))
        self._loss_sum.assign_add(loss)
        self._loss_count.assign_add(1.0)

    def _replica_step(self, x: dict[str, tf.Tensor], y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = replica_loss(self._model, self._loss_fn, x, y, self._distiller)
        gradients = tape.gradient(loss, self._variables)
        gradients = [_masked(g, m) for g, m in zip(gradients, self._masks, strict=True)]
        self._optimizer.apply_gradients(zip(gradients, self._variables, strict=True))
        return loss

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
