"""A sensitivity job: prune one prunable weight at a time by magnitude, at each sparsity, with
no fine-tuning, evaluate on the validation split, restore the weight; write metrics.json."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from worker.pruning.contract.hparams import PruningHParams
from worker.pruning.contract.signatures import check_signature
from worker.pruning.contract.training_config import TrainingConfig
from worker.pruning.data import load_npz, prepare_data
from worker.pruning.loading import load_prunable_model
from worker.pruning.masks import kth_threshold
from worker.pruning.objectives import build_loss, metric_factories, resolve_from_logits
from worker.pruning.progress import EventStream, json_safe
from worker.pruning.results import evaluate
from worker.pruning.sensitivity_suggestion import MAX_DROP_POINTS, drop_points, suggest_hparams
from worker.pruning.training_loop import batches
from worker.pruning.weight_selection import select_weights

METRICS_FILE = "metrics.json"


def magnitude_pruned(values: np.ndarray, sparsity: float) -> np.ndarray:
    """`values` with its smallest-magnitude fraction `sparsity` set to zero."""
    magnitudes = np.abs(values)
    threshold = kth_threshold(magnitudes, sparsity)
    return np.where(magnitudes > threshold, values, 0).astype(values.dtype)


def _with_accuracy(config: TrainingConfig) -> TrainingConfig:
    metrics = config.resolved_metrics()
    if "accuracy" in metrics:
        return config
    return config.model_copy(update={"metrics": [*metrics, "accuracy"]})


def _scores(measured: dict[str, float]) -> dict[str, float]:
    return {"loss": measured["loss"], "accuracy": measured["accuracy"]}


def run_sensitivity(
    model_path: str,
    data_path: str,
    sparsities: Sequence[float],
    config: TrainingConfig,
    out_dir: str,
    events: EventStream,
) -> dict[str, Any]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config = _with_accuracy(config)
    keras.utils.set_random_seed(config.seed)
    with tempfile.TemporaryDirectory(prefix="shears-sensitivity-") as scratch:
        model = load_prunable_model(model_path, config.signature, scratch)
        check_signature(model.signatures(), model.signature_name)
        data = prepare_data(
            load_npz(data_path, scratch), model.signature, config.loss, config.validation_split
        )
        weights = [w.weight for w in select_weights(model.candidate_weights(), PruningHParams())]
        val_batches = batches(data.val, config.batch_size)
        x, _ = next(iter(val_batches))
        from_logits = resolve_from_logits(config, model.forward(x, training=False).numpy())
        loss_fn = build_loss(config, from_logits)
        metrics = metric_factories(config, from_logits)
        total = len(weights) * len(sparsities)
        events.emit("started", total_steps=total, warnings=[])
        baseline = _scores(evaluate(model, loss_fn, metrics, val_batches))
        layers, step = [], 0
        for weight in weights:
            original = weight.variable.numpy()
            results = []
            try:
                for sparsity in sparsities:
                    weight.variable.assign(magnitude_pruned(original, sparsity))
                    scores = _scores(evaluate(model, loss_fn, metrics, val_batches))
                    drop = drop_points(baseline["accuracy"], scores["accuracy"])
                    results.append({"sparsity": sparsity, **scores, "drop": drop})
                    step += 1
                    events.emit(
                        "progress",
                        step=step,
                        total_steps=total,
                        layer=weight.name,
                        target_sparsity=sparsity,
                        loss=scores["loss"],
                        accuracy=scores["accuracy"],
                    )
            finally:
                weight.variable.assign(original)
            layers.append({"name": weight.name, "params": weight.params, "results": results})
    report = {
        "kind": "sensitivity",
        "baseline": baseline,
        "layers": layers,
        "suggested_hparams": suggest_hparams(layers),
        "max_drop_points": MAX_DROP_POINTS,
        "sparsities": list(sparsities),
        "format": model.format,
        "signature": model.signature_name,
        "validation_examples": len(data.val),
        "validation_source": data.val_source,
    }
    (out / METRICS_FILE).write_text(json.dumps(json_safe(report), indent=2, allow_nan=False))
    events.emit("metrics", **report)
    return report
