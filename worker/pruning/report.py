"""metrics.json (PRUNING.md section 6): before/after evaluation, sparsity per weight,
parameter counts, SavedModel sizes and training speed."""

from __future__ import annotations

from typing import Any

import numpy as np

from worker.pruning.prunable_model import PrunableModel, param_count
from worker.pruning.pruner import Pruner
from worker.pruning.training_loop import TrainingStats


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
    stats: TrainingStats,
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
        "training": {**stats.to_json(), **training},
        "format": model.format,
        "signature": model.signature_name,
        "warnings": warnings,
    }
