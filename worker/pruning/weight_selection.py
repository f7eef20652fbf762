"""Which candidate weights a job prunes, and how (PRUNING.md section 4). No TensorFlow.

Every regex (do_not_prune, weight_sparsity_map, block_dims_map) is matched with re.search
against the weight's name ("conv1/kernel") and, failing that, its layer's name ("conv1").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.hparams import PruningHParams
from worker.pruning.contract.model_rules import DEPTHWISE_KIND
from worker.pruning.masks import MaskSpec, mask_spec_for
from worker.pruning.prunable_model import CandidateWeight
from worker.pruning.schedule import layer_target_for


@dataclass(frozen=True, eq=False)
class PrunedWeight:
    weight: CandidateWeight
    spec: MaskSpec
    layer_target: float | None  # its weight_sparsity_map value, if any
    final_target: float  # the sparsity the schedule ends at for this weight

    @property
    def name(self) -> str:
        return self.weight.name


def _matching_name(patterns: list[re.Pattern[str]], weight: CandidateWeight) -> str | None:
    for name in (weight.name, weight.layer):
        if any(p.search(name) for p in patterns):
            return name
    return None


def select_weights(
    candidates: list[CandidateWeight], hparams: PruningHParams
) -> list[PrunedWeight]:
    do_not_prune = [re.compile(p) for p in hparams.do_not_prune]
    sparsity_regexes = [regex for regex, _ in hparams.sparsity_map()]
    block_regexes = [regex for regex, _ in hparams.block_map()]
    m_by_n = hparams.m_by_n()
    selected = []
    for weight in candidates:
        if _matching_name(do_not_prune, weight) is not None:
            continue
        mapped_name = _matching_name(sparsity_regexes, weight)
        layer_target = None if mapped_name is None else layer_target_for(hparams, mapped_name)
        if weight.kind == DEPTHWISE_KIND and layer_target is None:
            continue  # depthwise kernels only when named in weight_sparsity_map
        spec = mask_spec_for(
            hparams,
            _matching_name(block_regexes, weight) or weight.name,
            weight.shape,
            weight.input_axis,
        )
        if m_by_n is not None:
            final = 1.0 - m_by_n[0] / m_by_n[1]
        else:
            final = hparams.target_sparsity if layer_target is None else layer_target
        selected.append(PrunedWeight(weight, spec, layer_target, final))
    if not selected:
        raise PruningError(
            "nothing_to_prune",
            f"no prunable weight left among {len(candidates)} candidates"
            + (" after do_not_prune" if candidates and hparams.do_not_prune else "")
            + "; prunable weights are the trainable float kernels of Dense, Conv, Embedding and "
            "recurrent layers, or trainable float variables of rank >= 2 in a non-Keras SavedModel",
        )
    return selected
