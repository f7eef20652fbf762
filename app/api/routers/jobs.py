"""/v1/jobs: submit a pruning job, follow it (poll or SSE), cancel it, download its results."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import WithJsonSchema

from app.api.auth import CurrentTenant, SentApiKey
from app.api.deps import (
    DbSession,
    IfNoneMatch,
    PageParams,
    ReadDbSession,
    SessionReleasingRoute,
    SettingsDep,
)
from app.api.downloads import binary_response, blob_response
from app.api.errors import ApiError
from app.api.json_body import json_response
from app.api.schemas.common import ListResponse, created_links, error_responses
from app.api.schemas.jobs import JobCreate, JobOut, JobStatus
from app.api.services.artifacts import (
    ModelFormat,
    artifact_filename,
    job_artifact,
    model_artifact,
    require_succeeded,
)
from app.api.services.jobs import (
    MAX_IDEMPOTENCY_KEY_LENGTH,
    cancel_job,
    create_job,
    delete_job,
)
from app.api.services.ownership import get_owned, read_owned_by_key, read_owned_page
from app.api.sse import job_event_stream
from app.core.db.models import Job

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=SessionReleasingRoute)

# Before OpenAPI 3.2's itemSchema, the schema of text/event-stream describes one event.
SSE_EVENT = {
    "type": "object",
    "required": ["event", "data", "id"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "Resume after it."},
        "event": {"type": "string", "enum": ["status", "progress", "metrics", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}
SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`id: <seq>`, `event: status|progress|metrics|error`, `data: <json>`; "
        "ends after the terminal status event. Comment lines keep the connection alive.",
        "content": {"text/event-stream": {"schema": SSE_EVENT}},
    }
}
MAX_EVENT_SEQ = 10**9 - 1


@router.post(
    "",
    status_code=202,
    summary="Submit a pruning job",
    responses={
        **error_responses(400, 404, 409, 413, 422, 429),
        **created_links(
            202,
            "job_id",
            (
                "get_job",
                "cancel_job",
                "delete_job",
                "stream_job_events",
                "download_pruned_model",
                "get_job_metrics",
                "download_tensorboard",
                "download_report",
            ),
        ),
    },
)
def submit_job(
    body: JobCreate,
    response: Response,
    tenant: CurrentTenant,
    db: DbSession,
    settings: SettingsDep,
    idempotency_key: Annotated[
        str | None,
        Header(description="Same key and body within 24 h: the first job again."),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH}),
    ] = None,
) -> JobOut:
    """Validates hparams and training config, checks the data against the model's signature,
    stores the job as queued and hands it to a worker."""
    job, created = create_job(db, tenant.id, body, idempotency_key, settings)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return JobOut.from_row(job)


@router.get(
    "",
    summary="List jobs",
    response_model=ListResponse[JobOut],
    responses=error_responses(422),
)
def list_jobs(
    tenant: CurrentTenant,
    db: ReadDbSession,
    page: PageParams,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status.")] = None,
) -> Response:
    filters = [] if status is None else [Job.status == status]
    rows, count = read_owned_page(db, Job, tenant.id, page.limit, page.offset, *filters)
    return json_response(ListResponse(data=[JobOut.from_row(row) for row in rows], count=count))


@router.get("/{job_id}", summary="Get a job", response_model=JobOut, responses=error_responses(404))
def get_job(job_id: str, key: SentApiKey, db: ReadDbSession) -> Response:
    return json_response(JobOut.from_row(read_owned_by_key(db, Job, key, job_id)))


@router.post(
    "/{job_id}/cancel",
    name="cancel_job",
    status_code=202,
    summary="Cancel a job",
    responses=error_responses(404, 409),
)
def cancel(job_id: str, tenant: CurrentTenant, db: DbSession, settings: SettingsDep) -> JobOut:
    """A queued job never starts; a running one stops within seconds and ends cancelled."""
    return JobOut.from_row(cancel_job(db, tenant.id, job_id, settings))


@router.delete(
    "/{job_id}",
    name="delete_job",
    status_code=204,
    summary="Delete a finished job and its results",
    response_class=Response,
    responses=error_responses(404, 409),
)
def delete(job_id: str, tenant: CurrentTenant, db: DbSession, settings: SettingsDep) -> Response:
    delete_job(db, tenant.id, job_id, settings)
    return Response(status_code=204)


EVENT_ID_PATTERN = r"^\s*[0-9]{1,9}\s*$"  # an event's sequence number (an int column)


def _last_seq(last_event_id: str | None, after: int | None) -> int:
    if last_event_id is None:
        return after or 0
    if not re.fullmatch(EVENT_ID_PATTERN, last_event_id):
        raise ApiError(400, "bad_last_event_id", "Last-Event-ID must be an event id (an integer)")
    return int(last_event_id)


@router.get(
    "/{job_id}/events",
    name="stream_job_events",
    summary="Stream the job's events (SSE)",
    response_class=StreamingResponse,
    responses={**SSE_RESPONSE, **error_responses(400, 404)},
)
def events(
    job_id: str,
    tenant: CurrentTenant,
    db: DbSession,
    last_event_id: Annotated[
        str | None,
        Header(description="Resume after this event id."),
        WithJsonSchema({"type": "string", "pattern": EVENT_ID_PATTERN}),
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_EVENT_SEQ, description="Like Last-Event-ID.")
    ] = None,
) -> StreamingResponse:
    """A late client first gets what it missed, then live events, until the terminal status."""
    get_owned(db, Job, tenant.id, job_id)
    return StreamingResponse(
        job_event_stream(job_id, _last_seq(last_event_id, after)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/{job_id}/model",
    name="download_pruned_model",
    summary="Download the pruned model",
    response_class=Response,
    responses={
        **binary_response("application/zip", "application/gzip", "application/octet-stream"),
        **error_responses(404, 409, 422),
    },
)
def download_model(
    job_id: str,
    tenant: CurrentTenant,
    db: DbSession,
    if_none_match: IfNoneMatch = None,
    format: Annotated[
        ModelFormat,
        Query(
            description="keras only for .keras uploads; tflite, tflite_int8 for a requested export."
        ),
    ] = "zip",
) -> Response:
    job = get_owned(db, Job, tenant.id, job_id)
    artifact = model_artifact(db, job, format)
    return blob_response(db, artifact.blob_id, artifact_filename(job, artifact.kind), if_none_match)


@router.get(
    "/{job_id}/metrics",
    name="get_job_metrics",
    summary="The job's metrics (PRUNING.md section 6)",
    responses=error_responses(404, 409),
)
def metrics(job_id: str, tenant: CurrentTenant, db: DbSession) -> JSONResponse:
    job = get_owned(db, Job, tenant.id, job_id)
    require_succeeded(job)
    return JSONResponse(job.metrics)


def _artifact_download(
    job_id: str, kind: str, tenant: CurrentTenant, db: DbSession, if_none_match: str | None
) -> Response:
    job = get_owned(db, Job, tenant.id, job_id)
    artifact = job_artifact(db, job, kind)
    return blob_response(db, artifact.blob_id, artifact_filename(job, kind), if_none_match)


@router.get(
    "/{job_id}/tensorboard",
    name="download_tensorboard",
    summary="The job's TensorBoard event files (.tar.gz)",
    response_class=Response,
    responses={**binary_response("application/gzip"), **error_responses(404, 409)},
)
def tensorboard(
    job_id: str, tenant: CurrentTenant, db: DbSession, if_none_match: IfNoneMatch = None
) -> Response:
    return _artifact_download(job_id, "tensorboard.tar.gz", tenant, db, if_none_match)


@router.get(
    "/{job_id}/report.png",
    name="download_report",
    summary="Sparsity and loss against step, as a PNG",
    response_class=Response,
    responses={**binary_response("image/png"), **error_responses(404, 409)},
)
def report(
    job_id: str, tenant: CurrentTenant, db: DbSession, if_none_match: IfNoneMatch = None
) -> Response:
    return _artifact_download(job_id, "report.png", tenant, db, if_none_match)
