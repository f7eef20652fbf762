"""The sensitivity job's suggestion: each weight at the highest sparsity whose drop, and every
lower one's, stays under a point; a weight that cannot take the lowest is not pruned."""

from __future__ import annotations

import re

from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.sensitivity_suggestion import drop_points, safe_sparsity, suggest_hparams


def results(*drops: float) -> list[dict[str, float]]:
    return [{"sparsity": s, "drop": d} for s, d in zip((0.5, 0.75, 0.9, 0.95), drops, strict=False)]


def test_drop_is_in_points_and_negative_when_pruning_helped() -> None:
    assert drop_points(0.96, 0.951) == 0.9
    assert drop_points(0.9, 0.92) == -2.0


def test_the_safe_sparsity_stops_at_the_first_drop_of_a_point_or_more() -> None:
    assert safe_sparsity(results(0.0, 0.4, 0.99, 5.0)) == 0.9
    assert safe_sparsity(results(0.0, 1.0, 0.2, 0.1)) == 0.5  # a later recovery is not trusted
    assert safe_sparsity(results(1.5, 0.0, 0.0, 0.0)) == 0.0
    assert safe_sparsity(results(-0.5, -0.2, 0.3, 0.9)) == 0.95


def test_the_suggestion_maps_each_weight_exactly_and_is_valid_hparams() -> None:
    layers = [
        {"name": "conv1/kernel", "results": results(0.0, 0.2, 3.0, 9.0)},
        {"name": "dense.1/kernel", "results": results(0.1, 0.3, 0.5, 0.7)},
        {"name": "head/kernel", "results": results(12.0, 30.0, 60.0, 70.0)},
    ]
    suggested = suggest_hparams(layers)
    assert suggested == {
        "weight_sparsity_map": ["^conv1/kernel$:0.75", r"^dense\.1/kernel$:0.95"],
        "do_not_prune": ["^head/kernel$"],
    }
    hparams = parse_hparams(suggested)
    assert [value for _, value in hparams.sparsity_map()] == [0.75, 0.95]
    assert re.search(hparams.do_not_prune[0], "head/kernel")
    assert not re.search(hparams.sparsity_map()[1][0], "dense_1/kernel")
