"""pruning_unit "channel" at submission: only .keras models the engine can trace (PRUNING.md
section 9), refused with a 422 before anything is queued."""

from __future__ import annotations

from app.api.errors import ApiError
from app.core.db.models import Model
from worker.pruning.contract.channel_rules import SAVED_MODEL_REFUSAL


def check_channel_unit(model: Model) -> None:
    if model.format != "keras":
        raise ApiError(422, "unsupported_model", SAVED_MODEL_REFUSAL, {"model_id": model.id})
    refusal = (model.description or {}).get("channel_refusal")
    if refusal:
        raise ApiError(422, "channel_untraceable", refusal["message"], {"layer": refusal["layer"]})
