"""Nothing lost: jobs whose queue message never left, or whose worker died, are sent again.

- A `running` job whose heartbeat is older than heartbeat_timeout_seconds lost its worker (a
  SIGKILL, a lost machine): it goes back to `queued` with the reason and is sent again; the claim
  counts the attempt, and the attempt cap ends a job that keeps killing its worker.
- A `queued` job with no message sent since its last claim (Job.enqueued_at is null: the API
  crashed between commit and send, the broker was down, a worker died between releasing a job
  for retry and sending it) is sent again once it is requeue_after_seconds old.
- A `queued` job whose message a worker took and never acknowledged, longer ago than
  requeue_after_seconds, lost its worker before the claim (a SIGKILL right after the delivery):
  it is sent again rather than waiting for the broker's visibility timeout (see
  stranded_deliveries).
- A Redis that lost its data lost every message: the sweeper notices that the broker's epoch key
  is gone, clears every queued job's mark, and the jobs are sent again, a batch per pass.

A pass never reads the queue, only the small unacked set: its cost grows with the jobs that
need a message, not with the backlog. Sending a job twice is harmless: the claim runs it once.
Every worker runs a sweeper thread, at a jittered interval; a pass first takes a
transaction-level advisory lock and is skipped when another sweeper holds it, and rows are
locked with SKIP LOCKED, so sweepers never wait on each other or on a running job, and never
send the same job together.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import redis
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.core.db.models import Job, utcnow
from app.core.db.session import session_scope
from app.core.events import Event, record_event
from app.core.settings import Settings
from worker.stranded_deliveries import stranded_deliveries

log = logging.getLogger(__name__)

# Jobs one pass sends at most; the rest wait for the next pass.
SWEEP_BATCH = 200
# Present while the broker keeps its data; gone after Redis restarted empty.
EPOCH_KEY = "shears:queue:epoch"
SWEEPER_LOCK = 0x5EED  # pg_try_advisory_xact_lock key: one sweeper works per pass
JITTER = 0.5  # each wait is interval * (1 +- JITTER)


def take_turn(session: Session) -> bool:
    """True for the one sweeper whose pass runs now; the lock ends with the transaction."""
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(SWEEPER_LOCK))))


def broker_forgot(client: redis.Redis) -> bool:
    """True once after Redis lost its data (and on the very first pass ever)."""
    return bool(client.set(EPOCH_KEY, secrets.token_hex(8), nx=True))


def forget_marks(session: Session) -> None:
    """Every message is gone: no queued job has one waiting any more."""
    session.execute(
        update(Job)
        .where(Job.status == "queued", Job.enqueued_at.is_not(None))
        .values(enqueued_at=None, updated_at=Job.updated_at)  # they are due now
        .execution_options(synchronize_session=False)
    )


def requeue_orphans(
    session: Session, settings: Settings, now: datetime
) -> tuple[list[Job], dict[str, list[Event]]]:
    """Running jobs without a recent heartbeat, put back to `queued`."""
    stale = now - timedelta(seconds=settings.heartbeat_timeout_seconds)
    jobs = session.scalars(
        select(Job)
        .where(Job.status == "running", func.coalesce(Job.heartbeat_at, Job.updated_at) < stale)
        .limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    events: dict[str, list[Event]] = {}
    for job in jobs:
        job.status, job.heartbeat_at, job.enqueued_at = "queued", None, None
        reason = "its worker stopped responding; the job is sent to a worker again"
        job.error = {"code": "worker_lost", "message": reason}
        events[job.id] = [
            record_event(session, job.id, "status", {"status": "queued", "reason": reason})
        ]
    return list(jobs), events


def unsent_queued(session: Session, settings: Settings, now: datetime, limit: int) -> list[Job]:
    """Queued jobs old enough, with no message sent since their last claim."""
    stale = now - timedelta(seconds=settings.requeue_after_seconds)
    return list(
        session.scalars(
            select(Job)
            .where(Job.status == "queued", Job.enqueued_at.is_(None), Job.updated_at < stale)
            .order_by(Job.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )


def stranded_queued(
    session: Session, client: redis.Redis, settings: Settings, now: datetime, limit: int
) -> list[Job]:
    """Queued jobs whose current message was delivered long ago and never claimed."""
    delivered = stranded_deliveries(client, now - timedelta(seconds=settings.requeue_after_seconds))
    if not delivered or limit <= 0:
        return []
    jobs = session.scalars(
        select(Job)
        .where(Job.id.in_(delivered), Job.status == "queued", Job.enqueued_at.is_not(None))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    # A delivery of the job's current message is later than its send, give or take the moment
    # between a send and its mark; an older one is of a message that a new send replaced.
    slack = timedelta(seconds=settings.requeue_after_seconds / 2)
    return [job for job in jobs if job.enqueued_at and job.enqueued_at - slack <= delivered[job.id]]


def sweep(
    settings: Settings,
    client: redis.Redis,
    send: Callable[[str], bool],
    publish: Callable[[str, list[Event]], None],
) -> list[str]:
    """One pass; returns the ids of the jobs sent again. `send` sends the message only: the
    pass marks the jobs itself, in the transaction that holds their rows, so no other sweeper
    sends them too."""
    now = utcnow()
    with session_scope() as session:
        if not take_turn(session):
            return []
        if broker_forgot(client):
            log.warning("the queue's epoch key is gone: every queued job is sent again")
            forget_marks(session)
        orphans, events = requeue_orphans(session, settings, now)
        jobs = orphans + unsent_queued(session, settings, now, SWEEP_BATCH - len(orphans))
        jobs += stranded_queued(session, client, settings, now, SWEEP_BATCH - len(jobs))
        for job in jobs:
            log.warning("sending job %s to the queue again", job.id)
            if send(job.id):
                job.enqueued_at = now
    for job_id, job_events in events.items():
        publish(job_id, job_events)
    return [job.id for job in jobs]


def sweep_interval(settings: Settings) -> float:
    shortest = min(settings.requeue_after_seconds, settings.heartbeat_timeout_seconds)
    return min(30.0, max(0.5, shortest / 4))


class SweeperThread(threading.Thread):
    def __init__(self, interval: float, run_once: Callable[[], object]) -> None:
        super().__init__(name="shears-sweeper", daemon=True)
        self.interval, self.run_once = interval, run_once
        self.stopped = threading.Event()

    def run(self) -> None:
        # Jittered, so sweepers started together do not keep meeting at the lock.
        while not self.stopped.wait(self.interval * random.uniform(1 - JITTER, 1 + JITTER)):
            try:
                self.run_once()
            except Exception:  # Postgres or Redis away: try again next time
                log.exception("sweep failed")
