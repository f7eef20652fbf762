"""A Celery client that only sends tasks by name: the API never imports the worker's code."""

from __future__ import annotations

import logging
from functools import lru_cache

from celery import Celery
from sqlalchemy import update

from app.core.db.models import Job, utcnow
from app.core.db.session import session_scope
from app.core.settings import get_settings

log = logging.getLogger(__name__)

PRUNE_TASK = "prune"
GPU_QUEUE = "gpu"

# A broker that is down must not hold a request for long: the job row is already committed and
# the sweeper re-enqueues jobs that stay queued.
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}


@lru_cache
def celery_client(broker_url: str) -> Celery:
    client = Celery("shears-api", broker=broker_url)
    client.conf.broker_connection_timeout = 2
    client.conf.broker_transport_options = {
        "visibility_timeout": get_settings().celery_visibility_timeout
    }
    return client


def enqueue_job(job_id: str) -> bool:
    """Send the "prune" task for a committed job and mark it sent (Job.enqueued_at); False (and
    a log line) if the broker is down, and the sweeper sends it later."""
    if not send_job(job_id):
        return False
    # After the send: a crash in between leaves no mark, and the sweeper sends a harmless
    # second message; a mark before the send could stand for a message that never left.
    with session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(enqueued_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return True


def send_job(job_id: str) -> bool:
    """Only the message: callers that hold the job's row mark it themselves."""
    broker_url = get_settings().redis_url
    if not broker_url:
        raise RuntimeError("REDIS_URL is not set; start Shears with `make run`, which sets it")
    try:
        celery_client(broker_url).send_task(
            PRUNE_TASK,
            args=[job_id],
            queue=GPU_QUEUE,
            retry=True,
            retry_policy=PUBLISH_RETRY_POLICY,
        )
    except Exception as exc:  # kombu raises several types for an unreachable broker
        log.warning("could not enqueue job %s (the sweeper will retry): %s", job_id, exc)
        return False
    return True
