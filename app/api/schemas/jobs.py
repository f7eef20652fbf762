"""Pruning jobs: the request that creates one, and the job as the API shows it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from sqlalchemy import Row

from app.api.schemas.common import UtcDatetime, inline_json_schema
from app.api.storable_text import storable_fields
from app.core.db.models import Job
from worker.pruning.contract.hparams import FIELD_NAMES, PruningHParams
from worker.pruning.contract.training_config import TrainingConfig

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
JobKind = Literal["prune", "sensitivity"]

# contrib's `--pruning_hparams` grammar: known names, `=`, a value or a [bracketed, list].
_CONTRIB_PAIR = rf"\s*(?:{'|'.join(FIELD_NAMES)})\s*=\s*(?:\[[^\[\]]*\]|[^,\[\]=]*)"
CONTRIB_STRING_PATTERN = rf"^(?:{_CONTRIB_PAIR}(?:,{_CONTRIB_PAIR})*)?\s*$"
HParamsField = Annotated[
    dict[str, Any] | str | None,
    WithJsonSchema(
        {
            "anyOf": [
                inline_json_schema(PruningHParams),
                {"type": "string", "pattern": CONTRIB_STRING_PATTERN},
                {"type": "null"},
            ]
        }
    ),
]
TrainingField = Annotated[
    dict[str, Any] | None,
    WithJsonSchema({"anyOf": [inline_json_schema(TrainingConfig), {"type": "null"}]}),
]


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_id: str = Field(max_length=40)
    dataset_id: str = Field(max_length=40)
    hparams: HParamsField = Field(
        None,
        description="PRUNING.md section 1, as an object or contrib's string form.",
        examples=[{"target_sparsity": 0.8}, "target_sparsity=0.8,do_not_prune=[dense_2]"],
    )
    training: TrainingField = Field(
        None,
        description="PRUNING.md section 7. Rules across fields and the data's fit to the model "
        "are checked on submission (422).",
        examples=[{"epochs": 2, "batch_size": 64}],
    )
    exports: list[str] = Field(
        [],
        description="PRUNING.md section 8: TFLite files to export, 'tflite' and/or 'tflite_int8'.",
        examples=[["tflite", "tflite_int8"]],
        max_length=8,
    )
    name: str | None = Field(None, max_length=200)

    _storable = storable_fields("model_id", "dataset_id", "hparams", "training", "exports", "name")


class LayerProgress(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    target: float | None = None
    achieved: float | None = None
    threshold: float | None = None


class Progress(BaseModel):
    # Written by the worker as training goes; fields it has not reported yet are null.
    model_config = ConfigDict(extra="allow")

    step: int | None = None
    total_steps: int | None = None
    epoch: float | None = None
    loss: float | None = None
    target_sparsity: float | None = None
    achieved_sparsity: float | None = None
    layers: list[LayerProgress] = []
    steps_per_second: float | None = None
    eta_seconds: float | None = None
    updated_at: UtcDatetime | None = None


class JobErrorOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    message: str


class JobLinks(BaseModel):
    self: str
    events: str
    cancel: str
    model: str = Field(
        description="Add ?format=zip (default), tar.gz, keras, or an export: tflite, tflite_int8."
    )
    metrics: str
    tensorboard: str
    report: str


class JobOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    id: str
    name: str | None
    kind: JobKind = Field(description='"sensitivity" for POST /v1/models/{id}/sensitivity.')
    sweep_id: str | None = Field(description="The sweep that made the job, if one did.")
    status: JobStatus
    model_id: str | None
    dataset_id: str | None
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    attempts: int
    cancel_requested: bool
    hparams: dict[str, Any] = Field(description="Resolved: every default filled in.")
    training: dict[str, Any] = Field(description="Resolved: every default filled in.")
    warnings: list[str]
    exports: list[str]
    progress: Progress | None
    metrics: dict[str, Any] | None = Field(description="PRUNING.md section 6; null until success.")
    error: JobErrorOut | None
    links: JobLinks

    @classmethod
    def from_row(cls, row: Job | Row[Any]) -> JobOut:
        base = f"/v1/jobs/{row.id}"
        return cls(
            id=row.id,
            name=row.name,
            kind=row.kind,  # type: ignore[arg-type]
            sweep_id=row.sweep_id,
            status=row.status,  # type: ignore[arg-type]
            model_id=row.model_id,
            dataset_id=row.dataset_id,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            attempts=row.attempts,
            cancel_requested=row.cancel_requested,
            hparams=row.hparams,
            training=row.training,
            warnings=row.warnings or [],
            exports=row.exports or [],
            progress=row.progress,  # type: ignore[arg-type]
            metrics=row.metrics,
            error=row.error,  # type: ignore[arg-type]
            links=JobLinks(
                self=base,
                events=f"{base}/events",
                cancel=f"{base}/cancel",
                model=f"{base}/model",
                metrics=f"{base}/metrics",
                tensorboard=f"{base}/tensorboard",
                report=f"{base}/report.png",
            ),
        )
