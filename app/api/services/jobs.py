"""Creating and cancelling jobs: validate, store, record the status event, publish, enqueue."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.api.redis_client import get_redis
from app.api.schemas.jobs import JobCreate
from app.api.services.channel_unit import check_channel_unit
from app.api.services.inputs import check_data_fits_model
from app.api.services.ownership import get_owned
from app.api.services.quotas import check_job_quota, lock_tenant
from app.core.db.models import TERMINAL_STATUSES, Dataset, Job, JobArtifact, Model, utcnow
from app.core.events import Event, publish, record_event, stream_key
from app.core.queue import enqueue_job
from app.core.settings import Settings
from app.core.storage import BlobStore
from worker.pruning.contract.exports import block_warnings, parse_exports
from worker.pruning.contract.hparams import PruningHParams, parse_hparams
from worker.pruning.contract.training_config import TrainingConfig, parse_training

MAX_IDEMPOTENCY_KEY_LENGTH = 200


def request_fingerprint(request: JobCreate) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replayed_job(
    session: Session, tenant_id: str, key: str, fingerprint: str, settings: Settings
) -> Job | None:
    """The job first created with this key, if within the window; a reused key is a 409."""
    job = session.scalar(select(Job).where(Job.tenant_id == tenant_id, Job.idempotency_key == key))
    if job is None:
        return None
    if utcnow() - job.created_at > timedelta(seconds=settings.idempotency_window_seconds):
        job.idempotency_key = None  # expired: the key may name a new job
        session.flush()
        return None
    if job.request_sha256 != fingerprint:
        raise ApiError(
            409,
            "idempotency_key_reused",
            f"Idempotency-Key {key!r} was used for job {job.id} with a different body; "
            "use a new key for a different request",
            {"job_id": job.id},
        )
    return job


def _commit_and_announce(
    session: Session, job_id: str, events: list[Event], settings: Settings
) -> None:
    session.commit()
    publish(get_redis(), job_id, events, settings.stream_maxlen, settings.stream_ttl_seconds)


def create_job(
    session: Session,
    tenant_id: str,
    request: JobCreate,
    idempotency_key: str | None,
    settings: Settings,
) -> tuple[Job, bool]:
    """The new job (queued and enqueued), or the first one made with this Idempotency-Key.

    The bool is True when the job was created by this call."""
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ApiError(
            400,
            "bad_idempotency_key",
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
        )
    hparams = parse_hparams(request.hparams)
    training = parse_training(request.training)
    exports = parse_exports(request.exports)
    fingerprint = request_fingerprint(request)
    lock_tenant(session, tenant_id)
    if idempotency_key is not None:
        replayed = _replayed_job(session, tenant_id, idempotency_key, fingerprint, settings)
        if replayed is not None:
            session.commit()
            return replayed, False
    check_job_quota(session, tenant_id, settings)
    # Shared locks: the model or dataset cannot be deleted while the job is being created.
    model = get_owned(session, Model, tenant_id, request.model_id, shared_lock=True)
    dataset = get_owned(session, Dataset, tenant_id, request.dataset_id, shared_lock=True)
    train_rows = check_data_fits_model(model, dataset, training)
    job, event = add_queued_job(
        session,
        new_job(
            tenant_id,
            model,
            dataset,
            hparams,
            training,
            train_rows,
            exports,
            name=request.name,
            idempotency_key=idempotency_key,
            request_sha256=fingerprint,
        ),
    )
    announce_queued(session, [(job, event)], settings)
    return job, True


def new_job(
    tenant_id: str,
    model: Model,
    dataset: Dataset,
    hparams: PruningHParams,
    training: TrainingConfig,
    train_rows: int,
    exports: list[str],
    **fields: Any,
) -> Job:
    """A pruning job's row, with the warnings its schedule and exports earn; a channel-pruning
    job whose model cannot be rebuilt is a 422."""
    if hparams.pruning_unit == "channel":
        check_channel_unit(model)
    return Job(
        tenant_id=tenant_id,
        model_id=model.id,
        dataset_id=dataset.id,
        kind="prune",
        hparams=hparams.model_dump(mode="json"),
        training=training.resolved(),
        warnings=hparams.schedule_warnings(training.total_steps(train_rows))
        + block_warnings(hparams, exports),
        exports=exports,
        **fields,
    )


def add_queued_job(session: Session, job: Job) -> tuple[Job, Event]:
    """The job stored as queued with its first event (not yet committed or enqueued)."""
    job.status = "queued"
    session.add(job)
    session.flush()
    return job, record_event(session, job.id, "status", {"status": "queued"})


def announce_queued(session: Session, queued: list[tuple[Job, Event]], settings: Settings) -> None:
    """Commit the new jobs together, publish their first events, and hand them to workers."""
    session.commit()
    client = get_redis()
    for job, event in queued:
        publish(client, job.id, [event], settings.stream_maxlen, settings.stream_ttl_seconds)
        enqueue_job(job.id)


def cancel_job(session: Session, tenant_id: str, job_id: str, settings: Settings) -> Job:
    """A queued job ends cancelled now; a running one is asked to stop (the worker ends it)."""
    job = get_owned(session, Job, tenant_id, job_id, lock=True)
    if job.status in TERMINAL_STATUSES:
        raise ApiError(
            409,
            "job_finished",
            f"job {job.id} has already finished ({job.status})",
            {"status": job.status},
        )
    if job.status == "queued":
        job.status, job.finished_at = "cancelled", utcnow()
        event = record_event(session, job.id, "status", {"status": "cancelled"})
        _commit_and_announce(session, job.id, [event], settings)
    else:
        job.cancel_requested = True
        session.commit()
    session.refresh(job)
    return job


def delete_job(session: Session, tenant_id: str, job_id: str, settings: Settings) -> None:
    """A finished job, its events and its artifacts' blobs; an active one is a 409."""
    job = get_owned(session, Job, tenant_id, job_id, lock=True)
    if job.status not in TERMINAL_STATUSES:
        raise ApiError(
            409,
            "job_active",
            f"job {job.id} is {job.status}; cancel it first",
            {"status": job.status},
        )
    blob_ids = session.scalars(
        select(JobArtifact.blob_id).where(JobArtifact.job_id == job.id)
    ).all()
    session.delete(job)
    session.flush()
    store = BlobStore(session, settings.blob_chunk_bytes)
    for blob_id in blob_ids:
        store.delete(blob_id)
    session.commit()
    try:
        get_redis().delete(stream_key(job_id))
    except redis.RedisError:
        pass  # the stream expires on its own (settings.stream_ttl_seconds)
