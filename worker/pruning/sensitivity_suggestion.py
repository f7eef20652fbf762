"""From a sensitivity job's measurements to hparams a job or a sweep can take as they are.
No TensorFlow."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

MAX_DROP_POINTS = 1.0


def drop_points(baseline_accuracy: float, accuracy: float) -> float:
    """Accuracy lost, in percentage points (negative when pruning helped)."""
    return round((baseline_accuracy - accuracy) * 100.0, 4)


def safe_sparsity(results: Sequence[dict[str, Any]], max_drop: float = MAX_DROP_POINTS) -> float:
    """The highest sparsity tried whose drop, and every lower one's, stays under `max_drop`
    points; 0.0 when even the lowest is too much."""
    safe = 0.0
    for result in sorted(results, key=lambda r: r["sparsity"]):
        drop = result.get("drop")
        if drop is None or drop >= max_drop:
            break
        safe = result["sparsity"]
    return safe


def exact(name: str) -> str:
    """A regex matching this weight's name and nothing else."""
    return f"^{re.escape(name)}$"


def suggest_hparams(
    layers: Sequence[dict[str, Any]], max_drop: float = MAX_DROP_POINTS
) -> dict[str, list[str]]:
    """weight_sparsity_map gives each weight its safe sparsity; a weight with none is left in
    do_not_prune."""
    sparsity_map, do_not_prune = [], []
    for layer in layers:
        sparsity = safe_sparsity(layer["results"], max_drop)
        if sparsity > 0.0:
            sparsity_map.append(f"{exact(layer['name'])}:{sparsity:g}")
        else:
            do_not_prune.append(exact(layer["name"]))
    return {"weight_sparsity_map": sparsity_map, "do_not_prune": do_not_prune}
