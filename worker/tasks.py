"""The Celery task: a thin adapter from a delivery of a job id to the job runner."""

from __future__ import annotations

from app.core.queue import PRUNE_TASK, enqueue_job
from worker.celery_app import celery_app
from worker.job_runner import RunResult, run_job


@celery_app.task(name=PRUNE_TASK)
def prune(job_id: str) -> None:
    if run_job(job_id) is RunResult.RETRY:
        enqueue_job(job_id)  # marked as sent, as the API does; if it fails, the sweeper sends it
