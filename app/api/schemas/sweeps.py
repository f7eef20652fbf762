"""Sweeps: one model, one dataset, one pruning job per target sparsity, read as a table."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.api.schemas.common import UtcDatetime
from app.api.schemas.jobs import JobErrorOut, JobStatus
from app.api.storable_text import storable_fields
from worker.pruning.contract.json_scalars import Float

MIN_SPARSITIES, MAX_SPARSITIES = 2, 16
SweepStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Fraction = Annotated[Float, Field(ge=0.0, lt=1.0, allow_inf_nan=False)]


class SweepCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_id: str = Field(max_length=40)
    dataset_id: str = Field(max_length=40)
    sparsities: list[Fraction] = Field(
        min_length=MIN_SPARSITIES,
        max_length=MAX_SPARSITIES,
        json_schema_extra={"uniqueItems": True},
        description="Distinct target sparsities in [0, 1): one pruning job each.",
        examples=[[0.5, 0.75, 0.9]],
    )
    hparams: dict[str, Any] | str | None = Field(
        None,
        description="PRUNING.md section 1, shared by every job; target_sparsity is replaced "
        "by each of `sparsities`.",
        examples=[{"pruning_frequency": 10}],
    )
    training: dict[str, Any] | None = Field(
        None, description="PRUNING.md section 7.", examples=[{"steps": 200}]
    )
    exports: list[str] = Field(
        [],
        max_length=8,
        description="TFLite files every job exports, 'tflite' and/or 'tflite_int8' (see POST "
        "/v1/jobs).",
        examples=[["tflite"]],
    )
    name: str | None = Field(None, max_length=200)
    max_accuracy_drop: Float = Field(
        1.0,
        ge=0.0,
        le=100.0,
        allow_inf_nan=False,
        description="Points of accuracy below the baseline a job may lose and be recommended.",
    )

    @field_validator("sparsities")
    @classmethod
    def _distinct(cls, values: list[Any], info: ValidationInfo) -> list[Any]:
        if len(set(values)) != len(values):
            raise ValueError(f"{info.field_name} must be distinct")
        return sorted(values)

    _storable = storable_fields("model_id", "dataset_id", "hparams", "training", "name")


class SweepCounts(BaseModel):
    queued: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0


class Baseline(BaseModel):
    loss: float | None
    accuracy: float | None


class SweepRow(BaseModel):
    target_sparsity: float
    job_id: str
    status: JobStatus
    achieved_sparsity: float | None
    accuracy: float | None
    loss: float | None
    params_nonzero: int | None
    pruned_gzip_bytes: int | None
    exports: Any = Field(None, description="The job's exports, as its metrics give them.")
    error: JobErrorOut | None = None


class SweepLinks(BaseModel):
    self: str
    cancel: str
    report: str


class SweepOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    id: str
    name: str | None
    status: SweepStatus
    model_id: str | None
    dataset_id: str | None
    created_at: UtcDatetime
    sparsities: list[float]
    max_accuracy_drop: float
    exports: list[str]
    counts: SweepCounts
    jobs: list[str]
    baseline: Baseline | None = Field(description="The unpruned model, once a job measured it.")
    table: list[SweepRow] = Field(description="One row per sparsity, sorted by it.")
    recommended: str | None = Field(
        description="The job of the highest sparsity within max_accuracy_drop points of the "
        "baseline's accuracy, or null."
    )
    links: SweepLinks
