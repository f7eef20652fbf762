"""Sweeps: validate every job before queueing any, then queue them together; cancel; delete."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.api.schemas.sweeps import SweepCreate, SweepLinks, SweepOut
from app.api.services.inputs import check_data_fits_model
from app.api.services.jobs import (
    add_queued_job,
    announce_queued,
    cancel_job,
    delete_job,
    new_job,
)
from app.api.services.ownership import get_owned
from app.api.services.quotas import check_job_quota, lock_tenant
from app.api.services.sweep_table import (
    baseline_of,
    counts_of,
    recommended_job,
    sweep_status,
    table_of,
)
from app.core.db.models import ACTIVE_STATUSES, Dataset, Job, Model, Sweep
from app.core.settings import Settings
from worker.pruning.contract.exports import parse_exports
from worker.pruning.contract.hparams import PruningHParams, parse_hparams
from worker.pruning.contract.training_config import parse_training


def _hparams_per_sparsity(request: SweepCreate) -> list[PruningHParams]:
    """The shared hparams with each target sparsity, each validated as a job's would be."""
    shared = parse_hparams(request.hparams).model_dump(mode="json")
    return [parse_hparams({**shared, "target_sparsity": s}) for s in request.sparsities]


def create_sweep(
    session: Session, tenant_id: str, request: SweepCreate, settings: Settings
) -> Sweep:
    """Every job is checked first: one bad value is a 4xx and nothing is queued."""
    per_sparsity = _hparams_per_sparsity(request)
    training = parse_training(request.training)
    exports = parse_exports(request.exports)
    lock_tenant(session, tenant_id)
    check_job_quota(session, tenant_id, settings, incoming=len(per_sparsity))
    model = get_owned(session, Model, tenant_id, request.model_id, shared_lock=True)
    dataset = get_owned(session, Dataset, tenant_id, request.dataset_id, shared_lock=True)
    train_rows = check_data_fits_model(model, dataset, training)

    sweep = Sweep(
        tenant_id=tenant_id,
        name=request.name,
        model_id=model.id,
        dataset_id=dataset.id,
        sparsities=request.sparsities,
        max_accuracy_drop=request.max_accuracy_drop,
        exports=exports,
        cancelled=False,
    )
    session.add(sweep)
    session.flush()
    label = request.name or sweep.id
    queued = [
        add_queued_job(
            session,
            new_job(
                tenant_id,
                model,
                dataset,
                hparams,
                training,
                train_rows,
                exports,
                sweep_id=sweep.id,
                name=f"{label} @ {hparams.target_sparsity:g}"[:200],
            ),
        )
        for hparams in per_sparsity
    ]
    announce_queued(session, queued, settings)
    return sweep


def jobs_of(session: Session, sweep_ids: Sequence[str]) -> dict[str, list[Job]]:
    found: dict[str, list[Job]] = {sweep_id: [] for sweep_id in sweep_ids}
    rows = session.scalars(
        select(Job).where(Job.sweep_id.in_(sweep_ids)).order_by(Job.created_at, Job.id)
    )
    for job in rows:
        found[job.sweep_id or ""].append(job)
    return found


def sweep_out(sweep: Sweep, jobs: Sequence[Job]) -> SweepOut:
    statuses = [job.status for job in jobs]
    table = table_of(jobs)
    baseline = baseline_of(jobs)
    base = f"/v1/sweeps/{sweep.id}"
    return SweepOut(
        id=sweep.id,
        name=sweep.name,
        status=sweep_status(statuses, sweep.cancelled),  # type: ignore[arg-type]
        model_id=sweep.model_id,
        dataset_id=sweep.dataset_id,
        created_at=sweep.created_at,
        sparsities=sweep.sparsities,
        max_accuracy_drop=sweep.max_accuracy_drop,
        exports=sweep.exports or [],
        counts=counts_of(statuses),
        jobs=[row.job_id for row in table],
        baseline=baseline,
        table=table,
        recommended=recommended_job(table, baseline, sweep.max_accuracy_drop),
        links=SweepLinks(self=base, cancel=f"{base}/cancel", report=f"{base}/report.png"),
    )


def cancel_sweep(session: Session, tenant_id: str, sweep_id: str, settings: Settings) -> Sweep:
    """Queued jobs end cancelled now, running ones are asked to stop; 409 once all have ended."""
    sweep = get_owned(session, Sweep, tenant_id, sweep_id, lock=True)
    active = [
        job.id for job in jobs_of(session, [sweep.id])[sweep.id] if job.status in ACTIVE_STATUSES
    ]
    if not active:
        raise ApiError(409, "sweep_finished", f"every job of sweep {sweep.id} has already ended")
    sweep.cancelled = True
    session.commit()
    for job_id in active:
        try:
            cancel_job(session, tenant_id, job_id, settings)
        except ApiError as exc:
            if exc.status != 409:  # a job that ended meanwhile needs no cancel
                raise
    session.refresh(sweep)
    return sweep


def delete_sweep(session: Session, tenant_id: str, sweep_id: str, settings: Settings) -> None:
    """The sweep and its jobs with their results; 409 while any job is queued or running."""
    sweep = get_owned(session, Sweep, tenant_id, sweep_id, lock=True)
    jobs = jobs_of(session, [sweep.id])[sweep.id]
    active = [job.id for job in jobs if job.status in ACTIVE_STATUSES]
    if active:
        raise ApiError(
            409,
            "sweep_active",
            f"sweep {sweep.id} still has queued or running jobs {', '.join(active)}; "
            "cancel it first",
            {"jobs": active},
        )
    for job in jobs:
        delete_job(session, tenant_id, job.id, settings)
    session.delete(get_owned(session, Sweep, tenant_id, sweep_id, lock=True))
    session.commit()
