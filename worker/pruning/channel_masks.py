"""Masks over whole channel groups, updated on the schedule of PRUNING.md section 2.

A family is the set of groups made by the same producer layers (one layer, or the layers of a
residual block joined by Add); it has one target and one smoothed threshold, as a layer has
with weight pruning. A removed group zeroes the output channel of every producer in it (kernel
and bias) and the per-channel weights of the BatchNormalization and depthwise layers it feeds.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from worker.pruning.channel_groups import ChannelGraph
from worker.pruning.contract.hparams import PruningHParams
from worker.pruning.masks import MaskSpec, sparsity_of, update_mask
from worker.pruning.pruner import LayerState
from worker.pruning.schedule import PruningSchedule, layer_target_for
from worker.pruning.weight_selection import PrunedWeight

# Per-channel weights and the axis their channels run along.
PRODUCER_WEIGHTS = (("kernel", -1), ("pointwise_kernel", -1), ("bias", -1))
COUPLED_WEIGHTS = (("gamma", -1), ("beta", -1), ("kernel", -2), ("bias", -1))


@dataclass
class Family:
    name: str
    layers: tuple[str, ...]
    groups: list[int]
    layer_target: float | None
    threshold: float = 0.0

    def target(self, schedule: PruningSchedule, step: int) -> float:
        return schedule.layer_sparsity(step, self.layer_target)


def _families(graph: ChannelGraph, hparams: PruningHParams) -> list[Family]:
    by_layers: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for group, members in graph.members().items():
        if group not in graph.fixed_groups:
            by_layers[tuple(sorted({layer for layer, _ in members}))].append(group)
    skip = [re.compile(p) for p in hparams.do_not_prune]
    sparsity_map = [regex for regex, _ in hparams.sparsity_map()]
    families = []
    for layers, groups in by_layers.items():
        if len(groups) < 2 or any(p.search(name) for p in skip for name in layers):
            continue
        mapped = next((n for n in layers for r in sparsity_map if r.search(n)), None)
        target = None if mapped is None else layer_target_for(hparams, mapped)
        families.append(Family("+".join(layers), layers, groups, target))
    return families


def channel_norms(kernel: np.ndarray, criterion: str) -> np.ndarray:
    """The L2 (or L1) norm of each output channel (last axis) of a kernel."""
    flat = np.abs(kernel.reshape(-1, kernel.shape[-1]).astype(np.float64))
    return flat.sum(axis=0) if criterion == "l1" else np.sqrt((flat**2).sum(axis=0))


class ChannelPruner:
    """The Pruner interface (masked_variables, update_due, update, layer_states, ...) for
    channels."""

    def __init__(
        self,
        model: keras.Model,
        graph: ChannelGraph,
        weights: list[PrunedWeight],
        hparams: PruningHParams,
    ) -> None:
        self.graph = graph
        self.schedule = PruningSchedule(hparams)
        self._decay, self._criterion = hparams.threshold_decay, hparams.channel_criterion
        self.families = _families(graph, hparams)
        pruned_layers = {name for family in self.families for name in family.layers}
        self.weights = [w for w in weights if w.weight.layer in pruned_layers]
        self.removed: set[int] = set()
        self._layers = {layer.name: layer for layer in model.layers}
        self._masked: list[tuple[Any, tf.Variable, str, int, bool]] = []
        for name in graph.producers + graph.coupled:
            layer = self._layers[name]
            coupled = name in graph.coupled
            for attribute, axis in COUPLED_WEIGHTS if coupled else PRODUCER_WEIGHTS:
                variable = getattr(layer, attribute, None)
                if variable is None:
                    continue
                mask = tf.Variable(tf.ones(variable.shape, variable.dtype), trainable=False)
                self._masked.append((variable, mask, name, axis, coupled))
        self.thresholds = [0.0] * len(self.weights)
        self.achieved = [sparsity_of(w.weight.variable.numpy()) for w in self.weights]
        self.last_update_step: int | None = None

    def masked_variables(self) -> list[tuple[Any, tf.Variable]]:
        return [(variable, mask) for variable, mask, *_ in self._masked]

    def update_due(self, step: int) -> bool:
        return self.schedule.mask_update_due(step, self.last_update_step)

    def group_scores(self) -> dict[int, float]:
        scores: dict[int, float] = defaultdict(float)
        for layer in self.graph.producers:
            kernel = getattr(self._layers[layer], "pointwise_kernel", None)
            kernel = self._layers[layer].kernel if kernel is None else kernel
            norms = channel_norms(kernel.numpy(), self._criterion)
            for channel, group in enumerate(self.graph.outputs[layer]):
                scores[group] += float(norms[channel])
        return scores

    def update(self, step: int) -> None:
        scores = self.group_scores()
        removed: set[int] = set()
        for family in self.families:
            values = np.array([scores[g] for g in family.groups])
            target = family.target(self.schedule, step)
            keep, family.threshold = update_mask(
                values, target, family.threshold, self._decay, MaskSpec()
            )
            if not keep.any():
                keep[int(np.argmax(values))] = 1  # a layer keeps at least one channel
            removed.update(g for g, k in zip(family.groups, keep, strict=True) if not k)
        self.removed = removed
        self._assign_masks()
        self.last_update_step = step

    def _assign_masks(self) -> None:
        for variable, mask, layer, axis, coupled in self._masked:
            groups = (self.graph.inputs if coupled else self.graph.outputs)[layer]
            keep = np.array([g not in self.removed for g in groups], dtype=np.float32)
            shape = [1] * len(variable.shape)
            shape[axis] = len(keep)
            full = np.broadcast_to(keep.reshape(shape), variable.shape).astype(np.float32)
            mask.assign(full)
            variable.assign(variable.numpy() * full)
        self.refresh_achieved()

    def kept_channels(self, layer: str, of_input: bool = False) -> list[int]:
        groups = (self.graph.inputs if of_input else self.graph.outputs)[layer]
        return [i for i, g in enumerate(groups) if g not in self.removed]

    def layer_states(self, step: int) -> list[LayerState]:
        return [
            LayerState(
                f.name,
                f.target(self.schedule, step),
                sum(g in self.removed for g in f.groups) / len(f.groups),
                f.threshold,
            )
            for f in self.families
        ]

    def _channel_weighted(self, fractions: list[float]) -> float:
        sizes = [len(f.groups) for f in self.families]
        return sum(f * s for f, s in zip(fractions, sizes, strict=True)) / max(1, sum(sizes))

    def global_target(self, step: int) -> float:
        return self._channel_weighted([f.target(self.schedule, step) for f in self.families])

    def global_achieved(self) -> float:
        return self._channel_weighted([s.achieved for s in self.layer_states(0)])

    def weighted(self, fractions: list[float]) -> float:
        sizes = [w.weight.params for w in self.weights]
        return sum(f * s for f, s in zip(fractions, sizes, strict=True)) / max(1, sum(sizes))

    def refresh_achieved(self) -> None:
        self.achieved = [sparsity_of(w.weight.variable.numpy()) for w in self.weights]
