"""The Celery application of the worker. No TensorFlow here: the trainer subprocess has it."""

from __future__ import annotations

from celery import Celery

from app.core.queue import GPU_QUEUE, PRUNE_TASK
from app.core.settings import Settings, get_settings

# Time for a stopped trainer to go and the results to be stored, past the job's own limit.
HARD_LIMIT_MARGIN_SECONDS = 900


def create_celery(settings: Settings) -> Celery:
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set; start Shears with `make run`, which sets it")
    app = Celery(
        "shears-worker", broker=settings.redis_url, include=["worker.tasks", "worker.lifecycle"]
    )
    app.conf.update(
        task_default_queue=GPU_QUEUE,
        task_routes={PRUNE_TASK: {"queue": GPU_QUEUE}},
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # job status lives in Postgres, never in a result backend
        # A job is acknowledged only once it is done, and redelivered if the worker dies.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Longer than the longest job, or Redis hands a running job to a second worker.
        broker_transport_options={"visibility_timeout": settings.celery_visibility_timeout},
        broker_connection_retry_on_startup=True,
        # A Redis restart must not end a running job; a redelivered copy is skipped by the claim.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        # A backstop only: the job runner enforces the job's time limit itself.
        task_time_limit=settings.job_time_limit_seconds + HARD_LIMIT_MARGIN_SECONDS,
        worker_hijack_root_logger=False,
    )
    return app


celery_app = create_celery(get_settings())
app = celery_app  # `celery -A worker.celery_app` looks for `app`
