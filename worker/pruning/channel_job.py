"""Where a job with pruning_unit "channel" differs from one with weights: the refusals before
the first step, the pruner, and the rebuilt model (checked, measured) before the export."""

from __future__ import annotations

from typing import Any

from worker.pruning.channel_groups import ChannelGraph, trace_channels
from worker.pruning.channel_masks import ChannelPruner
from worker.pruning.contract.channel_rules import SAVED_MODEL_REFUSAL
from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.hparams import PruningHParams
from worker.pruning.data import Split
from worker.pruning.prunable_model import PrunableModel
from worker.pruning.pruner import Pruner
from worker.pruning.rebuild import check_equivalent, rebuild
from worker.pruning.structure import structure_report
from worker.pruning.weight_selection import PrunedWeight


def channel_graph_for(model: PrunableModel, hparams: PruningHParams) -> ChannelGraph | None:
    """The traced channels of a channel job (None for a weight job), or a 422."""
    if hparams.pruning_unit != "channel":
        return None
    if model.format != "keras":
        raise PruningError("unsupported_model", SAVED_MODEL_REFUSAL)
    return trace_channels(model.model)


def make_pruner(
    model: PrunableModel,
    graph: ChannelGraph | None,
    weights: list[PrunedWeight],
    hparams: PruningHParams,
) -> Pruner | ChannelPruner:
    if graph is None:
        return Pruner(weights, hparams)
    pruner = ChannelPruner(model.model, graph, weights, hparams)
    if not pruner.families:
        raise PruningError(
            "nothing_to_prune",
            "no channel can be removed: every channel reaches a model output, an input, a "
            "layer that needs all its channels, or a layer in do_not_prune",
        )
    return pruner


def _model_inputs(model: Any, split: Split) -> Any:
    x, _ = split.take(slice(None))
    names = [t.name for t in model.inputs]
    return x[names[0]] if len(names) == 1 else {n: x[n] for n in names}


def finish_channels(model: PrunableModel, pruner: ChannelPruner, val: Split) -> dict[str, Any]:
    """Swap the masked model for the rebuilt one, once it computes the same; its structure."""
    masked = model.model
    smaller = rebuild(masked, pruner)
    difference = check_equivalent(masked, smaller, _model_inputs(masked, val))
    report = structure_report(masked, smaller, pruner.graph.producers)
    model.model = smaller
    return {**report, "max_output_difference": difference}
