"""Put a job in the states a worker would (no Celery worker runs in tests/api)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.core.db.models import Job, JobArtifact, JobEvent, utcnow
from app.core.db.session import session_scope
from app.core.events import record_event
from app.core.settings import get_settings
from app.core.storage import BlobStore

# A progress line as the trainer prints it: epochs are fractional mid-epoch.
PROGRESS = {
    "step": 40,
    "total_steps": 90,
    "epoch": 4.4444,
    "loss": 0.31,
    "target_sparsity": 0.62,
    "achieved_sparsity": 0.6,
    "layers": [{"name": "dense/kernel", "target": 0.62, "achieved": 0.6, "threshold": 0.03}],
    "steps_per_second": 12.5,
    "eta_seconds": 4.0,
}


def mark_running(job_id: str, progress: dict[str, Any] | None = None) -> None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        job.status, job.started_at, job.attempts = "running", utcnow(), 1
        record_event(session, job_id, "status", {"status": "running"})
        if progress is not None:
            job.progress = {**progress, "updated_at": utcnow().isoformat()}
            record_event(session, job_id, "progress", progress)


def mark_succeeded(job_id: str, artifacts: dict[str, Path], metrics: dict[str, Any]) -> None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        store = BlobStore(session, get_settings().blob_chunk_bytes)
        for kind, path in artifacts.items():
            blob = store.put_file(path, job.tenant_id)
            session.add(JobArtifact(job_id=job_id, kind=kind, blob_id=blob.id))
        job.status, job.finished_at, job.metrics = "succeeded", utcnow(), metrics
        record_event(session, job_id, "metrics", metrics)
        record_event(session, job_id, "status", {"status": "succeeded"})


def events_of(job_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(type, data) of the job's events as Postgres holds them, in order."""
    with session_scope() as session:
        rows = session.scalars(
            select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.seq)
        )
        return [(row.type, row.data) for row in rows]
