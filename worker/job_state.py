"""A job's status transitions as the worker makes them, each one transaction plus its event.

Every transition after the claim first checks that the job is still this attempt's: a job that
was cancelled, finished or taken over by a later delivery in the meantime is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db.models import TERMINAL_STATUSES, Dataset, Job, JobArtifact, JobEvent, Model, utcnow
from app.core.settings import Settings
from app.core.storage import BlobStore
from worker.job_writer import JobWriter, RecordEvent


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    tenant_id: str
    attempt: int
    model_format: str  # "saved_model" | "keras"
    model_container: str  # "zip" | "tar.gz" | "keras"
    model_blob_id: str
    dataset_blob_id: str
    hparams: dict[str, Any]
    training: dict[str, Any]
    exports: list[str]
    kind: str = "prune"  # or "sensitivity": which trainer mode runs it


def _lock(session: Session, job_id: str) -> Job | None:
    return session.scalars(select(Job).where(Job.id == job_id).with_for_update()).one_or_none()


def claim(writer: JobWriter, settings: Settings) -> ClaimedJob | None:
    """Start the job's next attempt, or None when there is nothing to run."""
    with writer.transaction() as (session, record):
        job = _lock(session, writer.job_id)
        if job is None or job.status in TERMINAL_STATUSES:
            return None  # deleted, or a second delivery of a finished job
        now = utcnow()
        if job.cancel_requested:
            _finish(job, record, "cancelled")
            return None
        if job.model_id is None or job.dataset_id is None:
            job.error = {"code": "inputs_deleted", "message": "the job's model or dataset is gone"}
            _finish(job, record, "failed", error=job.error)
            return None
        fresh = now - timedelta(seconds=settings.heartbeat_timeout_seconds)
        if job.status == "running" and job.heartbeat_at is not None and job.heartbeat_at > fresh:
            return None  # another worker is running it right now
        if job.attempts >= settings.max_attempts:
            last = (job.error or {}).get("message", "its worker stopped without a word")
            job.error = {
                "code": "attempts_exhausted",
                "message": f"the job failed {job.attempts} attempts; the last one: {last}",
            }
            _finish(job, record, "failed", error=job.error)
            return None
        job.attempts += 1
        job.status, job.heartbeat_at, job.progress = "running", now, None
        job.enqueued_at = None  # this message is taken: a requeue must send a new one
        job.started_at = job.started_at or now
        record("status", {"status": "running", "attempt": job.attempts})
        model = session.get_one(Model, job.model_id)
        dataset = session.get_one(Dataset, job.dataset_id)
        return ClaimedJob(
            id=job.id,
            tenant_id=job.tenant_id,
            attempt=job.attempts,
            model_format=model.format,
            model_container=model.container,
            model_blob_id=model.blob_id,
            dataset_blob_id=dataset.blob_id,
            hparams=job.hparams,
            training=job.training,
            exports=list(job.exports or []),
            kind=job.kind,
        )


def _finish(job: Job, record: RecordEvent, status: str, **extra: Any) -> None:
    job.status, job.finished_at = status, utcnow()
    record("status", {"status": status, **extra})


def lock_own_attempt(session: Session, job_id: str, attempt: int) -> Job | None:
    job = _lock(session, job_id)
    if job is None or job.status != "running" or job.attempts != attempt:
        return None
    return job


def heartbeat(
    writer: JobWriter, attempt: int, progress: dict[str, Any] | None, keep: bool = True
) -> str:
    """Mark the attempt alive (and save the latest progress; its event joins the kept history
    only if `keep`, else only the live stream). "run" to go on, "cancel" when a cancel was
    requested, "lost" when the job is no longer this attempt's."""
    with writer.transaction() as (session, record):
        job = lock_own_attempt(session, writer.job_id, attempt)
        if job is None:
            return "lost"
        job.heartbeat_at = utcnow()
        if progress is not None:
            job.progress = progress
            record("progress", progress, store=keep)
        return "cancel" if job.cancel_requested else "run"


def add_warnings(writer: JobWriter, attempt: int, warnings: list[str]) -> None:
    with writer.transaction() as (session, _record):
        job = lock_own_attempt(session, writer.job_id, attempt)
        if job is not None:
            job.warnings = list(dict.fromkeys([*(job.warnings or []), *warnings]))


def fail(writer: JobWriter, attempt: int, code: str, message: str) -> None:
    with writer.transaction() as (session, record):
        job = lock_own_attempt(session, writer.job_id, attempt)
        if job is None:
            return
        job.error = {"code": code, "message": message}
        record("error", job.error)
        _finish(job, record, "failed", error=job.error)


def cancel(writer: JobWriter, attempt: int) -> None:
    with writer.transaction() as (session, record):
        job = lock_own_attempt(session, writer.job_id, attempt)
        if job is not None:
            _finish(job, record, "cancelled")


def release_for_retry(writer: JobWriter, attempt: int, code: str, message: str) -> bool:
    """After a crash: back to `queued` with the reason, for another attempt. False when the
    attempts are used up and the job has failed instead."""
    with writer.transaction() as (session, record):
        job = lock_own_attempt(session, writer.job_id, attempt)
        if job is None:
            return False
        job.error = {"code": code, "message": message}
        if job.attempts >= writer.settings.max_attempts:
            job.error = {
                "code": "attempts_exhausted",
                "message": f"the job failed {job.attempts} attempts; the last one: {message}",
            }
            record("error", job.error)
            _finish(job, record, "failed", error=job.error)
            return False
        job.status, job.heartbeat_at = "queued", None
        record("error", job.error)
        record("status", {"status": "queued", "retry": True, "reason": message})
        return True


def succeed(
    writer: JobWriter, job: ClaimedJob, files: dict[str, Path], metrics: dict[str, Any]
) -> bool:
    """Artifacts, metrics and status `succeeded` in one transaction. Artifacts of an earlier
    attempt that got this far (it cannot have finished, or we would not be running) are replaced,
    so a job has exactly one set."""
    with writer.transaction() as (session, record):
        row = lock_own_attempt(session, job.id, job.attempt)
        if row is None:
            return False
        store = BlobStore(session, writer.settings.blob_chunk_bytes)
        for old in session.scalars(select(JobArtifact).where(JobArtifact.job_id == job.id)):
            session.delete(old)
            session.flush()
            store.delete(old.blob_id)
        for kind, path in sorted(files.items()):
            blob = store.put_file(path, job.tenant_id)
            session.add(JobArtifact(job_id=job.id, kind=kind, blob_id=blob.id))
        row.metrics, row.error = metrics, None
        record("metrics", metrics)
        _finish(row, record, "succeeded")
        return True


def note_discarded_result(writer: JobWriter, attempt: int) -> None:
    """Tell the job's owner, in its warnings, that an attempt's finished result was dropped
    because the job was no longer that attempt's: never a silent loss."""
    with writer.transaction() as (session, _record):
        job = _lock(session, writer.job_id)
        if job is None:
            return
        note = f"attempt {attempt} finished after the job had left it (now attempt {job.attempts}"
        note += f", {job.status}); its result was discarded"
        job.warnings = [*(job.warnings or []), note]


def progress_history(session: Session, job_id: str) -> list[dict[str, Any]]:
    """The progress events since the job's latest start, in order (what report.png plots)."""
    events = session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.seq)
    ).all()
    history: list[dict[str, Any]] = []
    for event in events:
        if event.type == "status" and event.data.get("status") == "running":
            history = []
        elif event.type == "progress":
            history.append(event.data)
    return history
