"""TensorBoard event files with contrib's pruning summaries, written only at report points
so the per-step path stays free of summary ops."""

from __future__ import annotations

import tensorflow as tf

from worker.pruning.pruner import LayerState


class PruningSummaries:
    """Tags: `<name>/<weight>/sparsity`, `<name>/<weight>/threshold`, `<name>/target_sparsity`,
    `<name>/global_sparsity`, `loss`, `learning_rate` (`<name>` is hparams.name)."""

    def __init__(self, logdir: str, name: str) -> None:
        self._writer = tf.summary.create_file_writer(logdir)
        self._name = name

    def masks(self, step: int, layers: list[LayerState], target: float, achieved: float) -> None:
        with self._writer.as_default(step=step):
            for layer in layers:
                tf.summary.scalar(f"{self._name}/{layer.name}/sparsity", layer.achieved)
                tf.summary.scalar(f"{self._name}/{layer.name}/threshold", layer.threshold)
            tf.summary.scalar(f"{self._name}/target_sparsity", target)
            tf.summary.scalar(f"{self._name}/global_sparsity", achieved)

    def training(self, step: int, loss: float | None, learning_rate: float) -> None:
        with self._writer.as_default(step=step):
            if loss is not None:
                tf.summary.scalar("loss", loss)
            tf.summary.scalar("learning_rate", learning_rate)

    def close(self) -> None:
        self._writer.flush()
        self._writer.close()
