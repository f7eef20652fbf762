"""What a job gives back besides the model (PRUNING.md section 6): the evaluation before and
after, metrics.json, the SavedModel's size raw and gzip-compressed, and the TensorBoard
summaries written at report points."""

from __future__ import annotations

import gzip
import os
import tarfile
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from worker.pruning.objectives import MetricFactory
from worker.pruning.prunable_model import PrunableModel, param_count
from worker.pruning.pruner import LayerState, Pruner
from worker.pruning.scalar_log import ScalarLog


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


def _nonzero(variable: Any) -> int:
    return int(np.count_nonzero(variable.numpy()))


def sparsity_report(pruner: Pruner) -> dict[str, Any]:
    pruner.refresh_achieved()
    layers = []
    for i, pruned in enumerate(pruner.weights):
        weight = pruned.weight
        layers.append(
            {
                "name": weight.name,
                "kind": weight.kind,
                "shape": list(weight.shape),
                "params": weight.params,
                "nonzero": _nonzero(weight.variable),
                "target": round(pruned.final_target, 6),
                "achieved": round(pruner.achieved[i], 6),
                "threshold": pruner.thresholds[i],
            }
        )
    final_targets = [w.final_target for w in pruner.weights]
    return {
        "target": round(pruner.weighted(final_targets), 6),
        "achieved": round(pruner.global_achieved(), 6),
        "layers": layers,
    }


def build_metrics(
    *,
    baseline: dict[str, float],
    pruned: dict[str, float],
    pruner: Pruner,
    model: PrunableModel,
    sizes: dict[str, int],
    stats: dict[str, Any],
    training: dict[str, Any],
    warnings: list[str],
) -> dict[str, Any]:
    variables = model.all_variables()
    return {
        "baseline": baseline,
        "pruned": pruned,
        "sparsity": sparsity_report(pruner),
        "params": {
            "total": sum(param_count(v) for v in variables),
            "prunable": sum(w.weight.params for w in pruner.weights),
            "nonzero": sum(_nonzero(v) for v in variables),
            "variables": len(variables),
        },
        "size": sizes,
        "training": {**stats, **training},
        "format": model.format,
        "signature": model.signature_name,
        "warnings": warnings,
    }


# zlib's default: close to level 9's size on weights, several times faster.
GZIP_LEVEL = 6


class _CountingSink:
    """A write-only file that keeps only the number of bytes written to it."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


def raw_bytes(path: str | os.PathLike[str]) -> int:
    """A file's size, or the sum of the files' sizes under a directory."""
    if Path(path).is_file():
        return Path(path).stat().st_size
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def gzip_bytes(directory: str | os.PathLike[str]) -> int:
    """Size of `tar czf` of the directory, computed without writing the archive anywhere."""
    sink = _CountingSink()
    with gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as zipped:  # type: ignore[arg-type]
        with tarfile.open(fileobj=zipped, mode="w") as archive:
            archive.add(str(directory), arcname=".")
    return sink.size


def directory_sizes(directory: str | os.PathLike[str]) -> tuple[int, int]:
    return raw_bytes(directory), gzip_bytes(directory)


class PruningSummaries:
    """Tags: `<name>/<weight>/sparsity`, `<name>/<weight>/threshold`, `<name>/target_sparsity`,
    `<name>/global_sparsity`, `loss`, `learning_rate` (`<name>` is hparams.name)."""

    def __init__(self, logdir: str, name: str) -> None:
        self._log = ScalarLog(logdir)
        self._name = name

    def masks(self, step: int, layers: list[LayerState], target: float, achieved: float) -> None:
        scalars: dict[str, float] = {}
        for layer in layers:
            scalars[f"{self._name}/{layer.name}/sparsity"] = layer.achieved
            scalars[f"{self._name}/{layer.name}/threshold"] = layer.threshold
        scalars[f"{self._name}/target_sparsity"] = target
        scalars[f"{self._name}/global_sparsity"] = achieved
        self._log.add(step, scalars)

    def training(self, step: int, loss: float | None, learning_rate: float) -> None:
        scalars = {} if loss is None else {"loss": loss}
        self._log.add(step, {**scalars, "learning_rate": learning_rate})

    def close(self) -> None:
        self._log.close()
