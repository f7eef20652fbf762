"""A sensitivity job's request: which sparsities to try on each prunable weight, alone."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.api.storable_text import storable_fields
from worker.pruning.contract.json_scalars import Float

DEFAULT_SPARSITIES = (0.5, 0.75, 0.9, 0.95)
MAX_SENSITIVITY_SPARSITIES = 16
OpenFraction = Annotated[Float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)]
# Nothing trains: only what evaluating the model needs.
SENSITIVITY_TRAINING_KEYS = frozenset(
    {"loss", "from_logits", "metrics", "batch_size", "signature", "validation_split"}
)


class SensitivityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset_id: str = Field(max_length=40)
    sparsities: list[OpenFraction] = Field(
        list(DEFAULT_SPARSITIES),
        min_length=1,
        max_length=MAX_SENSITIVITY_SPARSITIES,
        json_schema_extra={"uniqueItems": True},
        description="Distinct sparsities in (0, 1) to try on each prunable weight.",
    )
    training: dict[str, Any] | None = Field(
        None,
        description=f"Any of {sorted(SENSITIVITY_TRAINING_KEYS)} (PRUNING.md section 7); the "
        "loss must be a classification loss, since the drop is in accuracy points.",
        examples=[{"batch_size": 128}],
    )
    name: str | None = Field(None, max_length=200)

    @field_validator("sparsities")
    @classmethod
    def _distinct(cls, values: list[float]) -> list[float]:
        if len(set(values)) != len(values):
            raise ValueError("sparsities must be distinct")
        return sorted(values)

    @field_validator("training")
    @classmethod
    def _evaluation_only(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        unknown = sorted(set(value or {}) - SENSITIVITY_TRAINING_KEYS)
        if unknown:
            raise ValueError(
                f"{unknown} do not apply: a sensitivity job trains nothing; "
                f"use some of {sorted(SENSITIVITY_TRAINING_KEYS)}"
            )
        return value

    _storable = storable_fields("dataset_id", "training", "name")
