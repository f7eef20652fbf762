"""The masks of one job: tf.Variables held here, never attached to the model, so an export
carries no trace of them. Updated every `pruning_frequency` steps from the NumPy mask maths,
or from the same maths in TensorFlow ops for weights on a GPU (no copy of them to the host).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import tensorflow as tf

from worker.pruning import device_masks
from worker.pruning import masks as numpy_masks
from worker.pruning.contract.hparams import PruningHParams
from worker.pruning.masks import sparsity_from_count, sparsity_of, update_masks_global
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
    def __init__(
        self,
        weights: list[PrunedWeight],
        hparams: PruningHParams,
        on_device: Callable[[Any], bool] = device_masks.on_gpu,
    ) -> None:
        self.weights = weights
        self._on_device = on_device
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
        self._install = tf.function(self._install_masks)

    def masked_variables(self) -> list[tuple[Any, tf.Variable]]:
        return [(w.weight.variable, mask) for w, mask in zip(self.weights, self.masks, strict=True)]

    def _install_masks(self, new_masks: list[tf.Tensor]) -> tf.Tensor:
        """Every mask and W = W * mask in one call; the weights' nonzero counts, in one tensor."""
        counts = []
        for (variable, mask), new in zip(self.masked_variables(), new_masks, strict=True):
            mask.assign(new)
            variable.assign(variable * new)
            counts.append(tf.math.count_nonzero(variable, dtype=tf.int64))
        return tf.stack(counts) if counts else tf.zeros([0], tf.int64)

    def update_due(self, step: int) -> bool:
        return self.schedule.mask_update_due(step, self.last_update_step)

    def target_at(self, step: int, weight: PrunedWeight) -> float:
        """The sparsity the schedule asks of `weight` at `step` (N:M: its fixed pattern)."""
        if self._m_by_n is not None:
            return weight.final_target if self.last_update_step is not None else 0.0
        return self.schedule.layer_sparsity(step, weight.layer_target)

    def update(self, step: int) -> None:
        """Section 3 of PRUNING.md for every weight at `step`, then W = W * mask."""
        new_masks: list[Any] = [None] * len(self.weights)
        shared = [i for i, w in enumerate(self.weights) if self._global and w.layer_target is None]
        if shared:
            masks, threshold = self._shared_masks([self.weights[i] for i in shared], step)
            self._global_threshold = threshold
            for i, mask in zip(shared, masks, strict=True):
                new_masks[i] = mask
                self.thresholds[i] = threshold
        for i, weight in enumerate(self.weights):
            if new_masks[i] is not None:
                continue
            target = self.schedule.layer_sparsity(step, weight.layer_target)
            maths = self._maths_for([weight])
            new_masks[i], self.thresholds[i] = maths.update_mask(
                self._read(weight, maths), target, self.thresholds[i], self._decay, weight.spec
            )
        nonzero = self._install(new_masks).numpy()
        self.achieved = [
            sparsity_from_count(w.weight.params, int(n))
            for w, n in zip(self.weights, nonzero, strict=True)
        ]
        self.last_update_step = step

    def _shared_masks(self, weights: list[PrunedWeight], step: int) -> tuple[list[Any], float]:
        """The global-scope masks of `weights` and their one threshold."""
        sparsity = self.schedule.sparsity(step)
        maths = self._maths_for(weights)
        if maths is device_masks:
            return device_masks.update_masks_global(
                [self._read(w, maths) for w in weights],
                sparsity,
                self._global_threshold,
                self._decay,
                [w.spec for w in weights],
            )
        masks, threshold = update_masks_global(
            {str(i): self._read(w, maths) for i, w in enumerate(weights)},
            sparsity,
            self._global_threshold,
            self._decay,
            {str(i): w.spec for i, w in enumerate(weights)},
        )
        return list(masks.values()), threshold

    def _maths_for(self, weights: list[PrunedWeight]) -> ModuleType:
        """TensorFlow ops when every weight is on the device and exactly computable there."""
        if all(
            self._on_device(w.weight.variable) and device_masks.supports(w.spec, w.weight.shape)
            for w in weights
        ):
            return device_masks
        return numpy_masks

    @staticmethod
    def _read(weight: PrunedWeight, maths: ModuleType) -> Any:
        variable = weight.weight.variable
        return tf.convert_to_tensor(variable) if maths is device_masks else variable.numpy()

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
