"""The masks of one job: tf.Variables held here, never attached to the model, so an export
carries no trace of them. Updated from the NumPy mask maths every `pruning_frequency` steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from worker.pruning.contract.hparams import PruningHParams
from worker.pruning.masks import sparsity_of, update_mask, update_masks_global
from worker.pruning.schedule import PruningSchedule
from worker.pruning.weight_selection import PrunedWeight


@dataclass(frozen=True)
class LayerState:
    name: str
    target: float
    achieved: float
    threshold: float

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": round(self.target, 6),
            "achieved": round(self.achieved, 6),
            "threshold": self.threshold,
        }


class Pruner:
    def __init__(self, weights: list[PrunedWeight], hparams: PruningHParams) -> None:
        self.weights = weights
        self.schedule = PruningSchedule(hparams)
        self._decay = hparams.threshold_decay
        self._global = hparams.pruning_scope == "global"
        self._m_by_n = hparams.m_by_n()
        self.masks = [
            tf.Variable(tf.ones(w.weight.shape, dtype=w.weight.variable.dtype), trainable=False)
            for w in weights
        ]
        self.thresholds = [0.0] * len(weights)
        self._global_threshold = 0.0
        self.achieved = [sparsity_of(w.weight.variable.numpy()) for w in weights]
        self.last_update_step: int | None = None
        self.apply_masks = tf.function(self._apply_masks)

    def masked_variables(self) -> list[tuple[Any, tf.Variable]]:
        return [(w.weight.variable, mask) for w, mask in zip(self.weights, self.masks, strict=True)]

    def _apply_masks(self) -> None:
        for variable, mask in self.masked_variables():
            variable.assign(variable * mask)

    def update_due(self, step: int) -> bool:
        return self.schedule.mask_update_due(step, self.last_update_step)

    def target_at(self, step: int, weight: PrunedWeight) -> float:
        """The sparsity the schedule asks of `weight` at `step` (N:M: its fixed pattern)."""
        if self._m_by_n is not None:
            return weight.final_target if self.last_update_step is not None else 0.0
        return self.schedule.layer_sparsity(step, weight.layer_target)

    def update(self, step: int) -> None:
        """Section 3 of PRUNING.md for every weight at `step`, then W = W * mask."""
        values = [w.weight.variable.numpy() for w in self.weights]
        new_masks: dict[int, np.ndarray] = {}
        shared = [i for i, w in enumerate(self.weights) if self._global and w.layer_target is None]
        if shared:
            masks, threshold = update_masks_global(
                {str(i): values[i] for i in shared},
                self.schedule.sparsity(step),
                self._global_threshold,
                self._decay,
                {str(i): self.weights[i].spec for i in shared},
            )
            self._global_threshold = threshold
            for i in shared:
                new_masks[i] = masks[str(i)]
                self.thresholds[i] = threshold
        for i, weight in enumerate(self.weights):
            if i in new_masks:
                continue
            target = self.schedule.layer_sparsity(step, weight.layer_target)
            new_masks[i], self.thresholds[i] = update_mask(
                values[i], target, self.thresholds[i], self._decay, weight.spec
            )
        for i, weight in enumerate(self.weights):
            pruned = values[i] * new_masks[i]
            self.masks[i].assign(new_masks[i])
            weight.weight.variable.assign(pruned)
            self.achieved[i] = sparsity_of(pruned)
        self.last_update_step = step

    def layer_states(self, step: int) -> list[LayerState]:
        return [
            LayerState(w.name, self.target_at(step, w), self.achieved[i], self.thresholds[i])
            for i, w in enumerate(self.weights)
        ]

    def global_target(self, step: int) -> float:
        return self.weighted([self.target_at(step, w) for w in self.weights])

    def global_achieved(self) -> float:
        return self.weighted(self.achieved)

    def weighted(self, fractions: list[float]) -> float:
        sizes = [w.weight.params for w in self.weights]
        return sum(f * s for f, s in zip(fractions, sizes, strict=True)) / max(1, sum(sizes))

    def refresh_achieved(self) -> None:
        """Recount zeros from the weights themselves (after training, for the final report)."""
        self.achieved = [sparsity_of(w.weight.variable.numpy()) for w in self.weights]
