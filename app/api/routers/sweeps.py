"""/v1/sweeps: one pruning job per target sparsity, read back as the seed's table."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.auth import CurrentTenant
from app.api.deps import DbSession, PageParams, SessionReleasingRoute, SettingsDep
from app.api.schemas.common import ListResponse, created_links, error_responses
from app.api.schemas.sweeps import SweepCreate, SweepOut
from app.api.services.ownership import get_owned, list_owned
from app.api.services.sweeps import cancel_sweep, create_sweep, delete_sweep, jobs_of, sweep_out
from app.api.sweep_report import render_sweep_report
from app.core.db.models import Sweep

router = APIRouter(prefix="/v1/sweeps", tags=["sweeps"], route_class=SessionReleasingRoute)


@router.post(
    "",
    name="submit_sweep",
    status_code=202,
    summary="Submit a sweep: one pruning job per target sparsity",
    responses={
        **error_responses(400, 404, 413, 422, 429),
        **created_links(
            202,
            "sweep_id",
            ("get_sweep", "cancel_sweep", "delete_sweep", "download_sweep_report"),
        ),
    },
)
def submit_sweep(
    body: SweepCreate,
    response: Response,
    tenant: CurrentTenant,
    db: DbSession,
    settings: SettingsDep,
) -> SweepOut:
    """Checks every job (hparams with each sparsity, training config, data against the model)
    before queueing any: one bad value is a 4xx and nothing is queued."""
    sweep = create_sweep(db, tenant.id, body, settings)
    response.headers["Location"] = f"/v1/sweeps/{sweep.id}"
    return sweep_out(sweep, jobs_of(db, [sweep.id])[sweep.id])


@router.get("", name="list_sweeps", summary="List sweeps", responses=error_responses(422))
def list_sweeps(tenant: CurrentTenant, db: DbSession, page: PageParams) -> ListResponse[SweepOut]:
    rows, count = list_owned(db, Sweep, tenant.id, page.limit, page.offset)
    jobs = jobs_of(db, [row.id for row in rows])
    return ListResponse(data=[sweep_out(row, jobs[row.id]) for row in rows], count=count)


@router.get("/{sweep_id}", name="get_sweep", summary="Get a sweep", responses=error_responses(404))
def get_sweep(sweep_id: str, tenant: CurrentTenant, db: DbSession) -> SweepOut:
    sweep = get_owned(db, Sweep, tenant.id, sweep_id)
    return sweep_out(sweep, jobs_of(db, [sweep.id])[sweep.id])


@router.post(
    "/{sweep_id}/cancel",
    name="cancel_sweep",
    status_code=202,
    summary="Cancel a sweep's unfinished jobs",
    responses=error_responses(404, 409),
)
def cancel(sweep_id: str, tenant: CurrentTenant, db: DbSession, settings: SettingsDep) -> SweepOut:
    sweep = cancel_sweep(db, tenant.id, sweep_id, settings)
    return sweep_out(sweep, jobs_of(db, [sweep.id])[sweep.id])


@router.delete(
    "/{sweep_id}",
    name="delete_sweep",
    status_code=204,
    summary="Delete a finished sweep, its jobs and their results",
    response_class=Response,
    responses=error_responses(404, 409),
)
def delete(sweep_id: str, tenant: CurrentTenant, db: DbSession, settings: SettingsDep) -> Response:
    delete_sweep(db, tenant.id, sweep_id, settings)
    return Response(status_code=204)


@router.get(
    "/{sweep_id}/report.png",
    name="download_sweep_report",
    summary="Accuracy and loss against sparsity, with the baseline, as a PNG",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses(404),
    },
)
def report(sweep_id: str, tenant: CurrentTenant, db: DbSession) -> Response:
    """Drawn from the jobs' stored metrics as they are now: a running sweep gives a partial plot."""
    sweep = get_owned(db, Sweep, tenant.id, sweep_id)
    png = render_sweep_report(sweep_out(sweep, jobs_of(db, [sweep.id])[sweep.id]))
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-cache"})
