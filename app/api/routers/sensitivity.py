"""/v1/models/{id}/sensitivity: which layers can take how much pruning, one at a time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.api.auth import CurrentTenant
from app.api.deps import DbSession, SessionReleasingRoute, SettingsDep
from app.api.schemas.common import created_links, error_responses
from app.api.schemas.jobs import JobOut
from app.api.schemas.sensitivity import SensitivityCreate
from app.api.services.ownership import get_owned
from app.api.services.sensitivity import create_sensitivity_job
from app.core.db.models import Model

router = APIRouter(prefix="/v1/models", tags=["models"], route_class=SessionReleasingRoute)


def owned_model_id(model_id: str, tenant: CurrentTenant, db: DbSession) -> str:
    """Another tenant's model is a 404 before the body is even read, as for any resource."""
    return get_owned(db, Model, tenant.id, model_id).id


OwnedModelId = Annotated[str, Depends(owned_model_id)]


@router.post(
    "/{model_id}/sensitivity",
    name="submit_sensitivity_job",
    status_code=202,
    summary="Measure each prunable weight's sensitivity to pruning",
    responses={
        **error_responses(400, 404, 413, 422, 429),
        **created_links(
            202,
            "job_id",
            ("get_job", "cancel_job", "stream_job_events", "get_job_metrics", "download_report"),
        ),
    },
)
def submit_sensitivity(
    model_id: OwnedModelId,
    body: SensitivityCreate,
    response: Response,
    tenant: CurrentTenant,
    db: DbSession,
    settings: SettingsDep,
) -> JobOut:
    """A job of kind "sensitivity": it prunes one prunable weight at a time by magnitude, with no
    fine-tuning, at each sparsity, evaluates on the validation split, and restores the weight.
    Its metrics hold each layer's accuracy drop and suggested hparams for a job or a sweep."""
    job = create_sensitivity_job(db, tenant.id, model_id, body, settings)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return JobOut.from_row(job)
