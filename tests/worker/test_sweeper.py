"""The sweeper sends again what would otherwise be lost, and nothing that is fine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import redis
from sqlalchemy import update

from app.core.db.models import Job, utcnow
from app.core.db.session import session_scope
from app.core.events import Event
from app.core.queue import GPU_QUEUE
from app.core.settings import Settings
from tests.worker.conftest import job_events, load_job
from worker.job_runner import RunResult, run_job
from worker.sweeper import sweep

MakeJob = Callable[[str], str]


@pytest.fixture
def queue_client(redis_url: str) -> Iterator[redis.Redis]:
    """A database of its own, so no real worker's queue is involved."""
    client = redis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/9")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def settings(worker_settings: Callable[..., Settings]) -> Settings:
    return worker_settings(heartbeat_timeout_seconds=5, requeue_after_seconds=5)


def set_job(job_id: str, **values: object) -> None:
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(**values))


def sweep_once(settings: Settings, client: redis.Redis) -> tuple[list[str], list[Event]]:
    sent: list[str] = []
    published: list[Event] = []
    sweep(
        settings,
        client,
        lambda job_id: sent.append(job_id) or True,
        lambda _job_id, events: published.extend(events),
    )
    return sent, published


def test_job_of_a_dead_worker_is_sent_again_and_completes(
    make_job: MakeJob, settings: Settings, queue_client: redis.Redis, redis_url: str
) -> None:
    job_id = make_job("succeed")
    set_job(job_id, status="running", attempts=1, heartbeat_at=utcnow() - timedelta(seconds=10))
    sent, published = sweep_once(settings, queue_client)
    assert job_id in sent
    job = load_job(job_id)
    assert job.status == "queued" and job.error is not None
    assert job.error["code"] == "worker_lost"
    assert published[-1].data["status"] == "queued"
    assert job_events(job_id)[-1][2]["status"] == "queued"

    assert run_job(job_id, settings, redis.Redis.from_url(redis_url)) is RunResult.DONE
    job = load_job(job_id)
    assert (job.status, job.attempts, job.error) == ("succeeded", 2, None)


def test_running_job_with_a_recent_heartbeat_is_left_alone(
    make_job: MakeJob, settings: Settings, queue_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    set_job(job_id, status="running", attempts=1, heartbeat_at=utcnow())
    sent, _ = sweep_once(settings, queue_client)
    assert job_id not in sent
    assert load_job(job_id).status == "running"


def test_queued_job_without_a_message_is_sent_once(
    make_job: MakeJob, settings: Settings, queue_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    set_job(job_id, updated_at=utcnow() - timedelta(seconds=10))
    assert job_id in sweep_once(settings, queue_client)[0]
    assert job_id not in sweep_once(settings, queue_client)[0]  # its clock was reset


def test_queued_job_whose_message_is_waiting_is_not_sent_again(
    make_job: MakeJob, settings: Settings, queue_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    queue_client.lpush(GPU_QUEUE, f'{{"headers": {{"argsrepr": "[\'{job_id}\']"}}}}')
    set_job(job_id, updated_at=utcnow() - timedelta(seconds=10))
    assert job_id not in sweep_once(settings, queue_client)[0]
    assert load_job(job_id).status == "queued"


def test_new_queued_job_is_not_touched(
    make_job: MakeJob, settings: Settings, queue_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    assert job_id not in sweep_once(settings, queue_client)[0]
