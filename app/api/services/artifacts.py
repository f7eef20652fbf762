"""A job's results: which stored artifact answers which download, and when."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.core.db.models import Job, JobArtifact, Model
from worker.pruning.contract.exports import EXPORT_NAMES

ModelFormat = Literal["zip", "tar.gz", "keras", "tflite", "tflite_int8"]

MODEL_ARTIFACTS: dict[str, str] = {
    "zip": "saved_model.zip",
    "tar.gz": "saved_model.tar.gz",
    "keras": "model.keras",
    **{export: f"{export}.tflite" for export in EXPORT_NAMES},
}
ARTIFACT_SUFFIXES = {
    "saved_model.zip": ".zip",
    "saved_model.tar.gz": ".tar.gz",
    "model.keras": ".keras",
    "metrics.json": ".json",
    "tensorboard.tar.gz": ".tar.gz",
    "report.png": ".png",
    **{f"{export}.tflite": ".tflite" for export in EXPORT_NAMES},
}


def require_succeeded(job: Job) -> None:
    if job.status != "succeeded":
        raise ApiError(
            409,
            "job_not_succeeded",
            f"job {job.id} is {job.status}; its results are available once it has succeeded",
            {"status": job.status},
        )


def _keras_unavailable(job: Job) -> ApiError:
    # A 404, like any file a job does not have: the request itself is well formed.
    return ApiError(
        404,
        "format_unavailable",
        f"format=keras is only available for jobs on a .keras upload; job {job.id} pruned a "
        "SavedModel: use format=zip or format=tar.gz",
    )


def artifact_filename(job: Job, kind: str) -> str:
    stem = kind.split(".", 1)[0]
    return f"{job.id}-{stem}{ARTIFACT_SUFFIXES[kind]}"


def model_artifact(session: Session, job: Job, model_format: ModelFormat) -> JobArtifact:
    """The pruned model in the requested packing: 404 for keras of a SavedModel, 409 too early."""
    model = session.get(Model, job.model_id) if job.model_id else None
    if model_format == "keras" and model is not None and model.container != "keras":
        raise _keras_unavailable(job)
    if model_format in EXPORT_NAMES and model_format not in (job.exports or []):
        raise ApiError(
            404,
            "export_not_requested",
            f"job {job.id} did not ask for the {model_format} export; ask for it with "
            f'"exports": ["{model_format}"] when creating a job',
            {"exports": job.exports or []},
        )
    require_succeeded(job)
    artifact = session.get(JobArtifact, (job.id, MODEL_ARTIFACTS[model_format]))
    if artifact is None:
        if model_format == "keras":
            raise _keras_unavailable(job)
        error = ((job.metrics or {}).get("exports") or {}).get(model_format, {}).get("error")
        if error:
            raise ApiError(404, "export_failed", error.get("message", ""), error)
        raise ApiError(
            404, "artifact_not_found", f"job {job.id} has no {model_format} model stored"
        )
    return artifact


def job_artifact(session: Session, job: Job, kind: str) -> JobArtifact:
    """An artifact the worker stored; before the job has succeeded, its absence is a 409."""
    artifact = session.get(JobArtifact, (job.id, kind))
    if artifact is None:
        require_succeeded(job)
        raise ApiError(404, "artifact_not_found", f"job {job.id} has no {kind} stored")
    return artifact
