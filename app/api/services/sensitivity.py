"""Sensitivity jobs: checked like a pruning job's inputs, queued like one, run by the trainer in
its sensitivity mode."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.api.schemas.sensitivity import SensitivityCreate
from app.api.services.inputs import check_data_fits_model
from app.api.services.jobs import add_queued_job, announce_queued
from app.api.services.ownership import get_owned
from app.api.services.quotas import check_job_quota, lock_tenant
from app.core.db.models import Dataset, Job, Model
from app.core.settings import Settings
from worker.pruning.contract.training_config import parse_training

SENSITIVITY_KIND = "sensitivity"


def create_sensitivity_job(
    session: Session, tenant_id: str, model_id: str, request: SensitivityCreate, settings: Settings
) -> Job:
    training = parse_training(request.training)
    if not training.is_classification:
        raise ApiError(
            422,
            "sensitivity_needs_accuracy",
            f"a sensitivity job measures drops in accuracy points; loss {training.loss!r} is "
            "not a classification loss",
        )
    lock_tenant(session, tenant_id)
    check_job_quota(session, tenant_id, settings)
    model = get_owned(session, Model, tenant_id, model_id, shared_lock=True)
    dataset = get_owned(session, Dataset, tenant_id, request.dataset_id, shared_lock=True)
    check_data_fits_model(model, dataset, training)
    queued = add_queued_job(
        session,
        Job(
            tenant_id=tenant_id,
            model_id=model.id,
            dataset_id=dataset.id,
            kind=SENSITIVITY_KIND,
            name=request.name,
            hparams={"sparsities": request.sparsities},
            training=training.resolved(),
            warnings=[],
        ),
    )
    announce_queued(session, [queued], settings)
    return queued[0]
