"""What the API's model page shows: signatures and prunable weights, without training."""

from __future__ import annotations

from typing import Any

from worker.pruning.loading import load_prunable_model
from worker.pruning.prunable_model import DEPTHWISE_KIND, CandidateWeight, param_count


def _weight_json(weight: CandidateWeight) -> dict[str, Any]:
    return {"name": weight.name, "shape": list(weight.shape), "params": weight.params}


def inspect_model(path: str, scratch_dir: str, signature: str | None = None) -> dict[str, Any]:
    """{"format", "signatures", "signature", "prunable", "depthwise", "params_total",
    "params_prunable"}: prunable weights of `signature` (default: serving_default) with
    default hparams; depthwise kernels are listed apart, prunable only when named in
    weight_sparsity_map."""
    model = load_prunable_model(path, signature, scratch_dir)
    candidates = model.candidate_weights()
    prunable = [w for w in candidates if w.kind != DEPTHWISE_KIND]
    return {
        "format": model.format,
        "signatures": {name: sig.to_json() for name, sig in model.signatures().items()},
        "signature": model.signature_name,
        "prunable": [_weight_json(w) for w in prunable],
        "depthwise": [_weight_json(w) for w in candidates if w.kind == DEPTHWISE_KIND],
        "params_total": sum(param_count(v) for v in model.all_variables()),
        "params_prunable": sum(w.params for w in prunable),
    }
