"""Nothing lost: jobs whose queue message never left, or whose worker died, are sent again.

- A `running` job whose heartbeat is older than heartbeat_timeout_seconds lost its worker (a
  SIGKILL, a lost machine): it goes back to `queued` with the reason and is sent again; the claim
  counts the attempt, and the attempt cap ends a job that keeps killing its worker.
- A `queued` job older than requeue_after_seconds whose message is not waiting in the queue
  (the API crashed between commit and send, or Redis lost it) is sent again.

Sending a job twice is harmless: the claim runs it once. Every worker runs a sweeper thread;
rows are locked with SKIP LOCKED, so sweepers never wait on each other or on a running job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import redis
from sqlalchemy import func, select

from app.core.db.models import Job, utcnow
from app.core.db.session import session_scope
from app.core.events import Event, record_event
from app.core.queue import GPU_QUEUE
from app.core.settings import Settings

log = logging.getLogger(__name__)

# Kombu keeps prioritised messages in sibling lists named queue + "\x06\x16" + priority.
_PRIORITY_LISTS = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def waiting_job_ids(client: redis.Redis, queue: str, candidates: list[str]) -> set[str]:
    """Which of the candidate jobs have a message waiting in the queue."""
    waiting: set[str] = set()
    for suffix in _PRIORITY_LISTS:
        for raw in client.lrange(queue + suffix, 0, -1):
            waiting.update(job_id for job_id in candidates if job_id.encode() in raw)
    return waiting


def requeue_orphans(settings: Settings, now: datetime) -> tuple[list[str], dict[str, list[Event]]]:
    """Running jobs without a recent heartbeat, put back to `queued`."""
    stale = now - timedelta(seconds=settings.heartbeat_timeout_seconds)
    events: dict[str, list[Event]] = {}
    with session_scope() as session:
        jobs = session.scalars(
            select(Job)
            .where(Job.status == "running", func.coalesce(Job.heartbeat_at, Job.updated_at) < stale)
            .with_for_update(skip_locked=True)
        ).all()
        for job in jobs:
            job.status, job.heartbeat_at = "queued", None
            reason = "its worker stopped responding; the job is sent to a worker again"
            job.error = {"code": "worker_lost", "message": reason}
            events[job.id] = [
                record_event(session, job.id, "status", {"status": "queued", "reason": reason})
            ]
    return [job.id for job in jobs], events


def stale_queued(settings: Settings, now: datetime, client: redis.Redis) -> list[str]:
    """Queued jobs waiting too long with no message in the queue; their clock is reset."""
    stale = now - timedelta(seconds=settings.requeue_after_seconds)
    with session_scope() as session:
        jobs = session.scalars(
            select(Job)
            .where(Job.status == "queued", Job.updated_at < stale)
            .with_for_update(skip_locked=True)
        ).all()
        waiting = waiting_job_ids(client, GPU_QUEUE, [job.id for job in jobs])
        lost = [job for job in jobs if job.id not in waiting]
        for job in jobs:
            job.updated_at = now
    return [job.id for job in lost]


def sweep(
    settings: Settings,
    client: redis.Redis,
    send: Callable[[str], bool],
    publish: Callable[[str, list[Event]], None],
) -> list[str]:
    """One pass; returns the ids of the jobs sent again."""
    now = utcnow()
    orphans, events = requeue_orphans(settings, now)
    for job_id, job_events in events.items():
        publish(job_id, job_events)
    resend = orphans + stale_queued(settings, now, client)
    for job_id in resend:
        log.warning("sending job %s to the queue again", job_id)
        send(job_id)
    return resend


def sweep_interval(settings: Settings) -> float:
    shortest = min(settings.requeue_after_seconds, settings.heartbeat_timeout_seconds)
    return min(30.0, max(0.5, shortest / 4))


class SweeperThread(threading.Thread):
    def __init__(self, interval: float, run_once: Callable[[], object]) -> None:
        super().__init__(name="shears-sweeper", daemon=True)
        self.interval, self.run_once = interval, run_once
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # Postgres or Redis away: try again next time
                log.exception("sweep failed")
