"""The sweeper sends again what would otherwise be lost, and nothing that is fine."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import redis
from sqlalchemy import func, select, update

from app.core.db.models import Job, utcnow
from app.core.db.session import session_scope
from app.core.events import Event
from app.core.queue import GPU_QUEUE, PRUNE_TASK, celery_client
from app.core.settings import Settings
from tests.worker.conftest import job_events, load_job
from worker.job_runner import RunResult, run_job
from worker.sweeper import EPOCH_KEY, SWEEPER_LOCK, sweep

MakeJob = Callable[[str], str]


@pytest.fixture
def queue_url(redis_url: str) -> str:
    """A database of its own, so no real worker's queue is involved."""
    return redis_url.rsplit("/", 1)[0] + "/9"


@pytest.fixture
def queue_client(queue_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(queue_url)
    client.flushdb()
    client.set(EPOCH_KEY, "test")  # a broker that has kept its data
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


def test_queued_job_whose_message_was_sent_is_not_sent_again(
    make_job: MakeJob, settings: Settings, queue_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    long_ago = utcnow() - timedelta(seconds=10)
    set_job(job_id, updated_at=long_ago, enqueued_at=long_ago)
    assert job_id not in sweep_once(settings, queue_client)[0]
    assert load_job(job_id).status == "queued"


def test_a_broker_that_lost_its_data_gets_every_queued_job_again(
    make_job: MakeJob, settings: Settings, queue_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    long_ago = utcnow() - timedelta(seconds=10)
    set_job(job_id, updated_at=long_ago, enqueued_at=long_ago)
    queue_client.flushdb()  # Redis restarted without its data: the message is gone
    assert job_id in sweep_once(settings, queue_client)[0]
    assert load_job(job_id).enqueued_at is not None
    assert job_id not in sweep_once(settings, queue_client)[0]


def test_a_claim_clears_the_mark_so_a_job_released_unsent_is_sent_again(
    make_job: MakeJob, settings: Settings, queue_client: redis.Redis, redis_url: str
) -> None:
    job_id = make_job("crash")  # the trainer dies: the job goes back to queued for a retry
    set_job(job_id, enqueued_at=utcnow())
    client = redis.Redis.from_url(redis_url)
    assert run_job(job_id, settings, client) is RunResult.RETRY
    job = load_job(job_id)
    assert (job.status, job.enqueued_at) == ("queued", None)
    # The worker died before sending the retry: the sweeper sends it once it is old enough.
    set_job(job_id, updated_at=utcnow() - timedelta(seconds=10))
    assert job_id in sweep_once(settings, queue_client)[0]


def test_sweepers_never_wait_for_each_other(
    make_job: MakeJob, settings: Settings, queue_client: redis.Redis
) -> None:
    locked_id, free_id = make_job("succeed"), make_job("succeed")
    for job_id in (locked_id, free_id):
        set_job(job_id, updated_at=utcnow() - timedelta(seconds=10))
    with session_scope() as other:
        # Another sweeper's pass is running: this one skips its turn at once.
        other.execute(select(func.pg_advisory_xact_lock(SWEEPER_LOCK)))
        assert sweep_once(settings, queue_client)[0] == []
    with session_scope() as other:
        # A row someone holds (a claim, a cancel) is skipped, not waited for.
        other.execute(select(Job.id).where(Job.id == locked_id).with_for_update())
        sent = sweep_once(settings, queue_client)[0]
        assert free_id in sent and locked_id not in sent
    assert locked_id in sweep_once(settings, queue_client)[0]


def test_new_queued_job_is_not_touched(
    make_job: MakeJob, settings: Settings, queue_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    assert job_id not in sweep_once(settings, queue_client)[0]


# A worker that takes one message the way Celery's does (acknowledged late) and waits.
TAKE_ONE_MESSAGE = """
import sys, time
from kombu import Connection
with Connection(sys.argv[1]) as connection:
    queue = connection.SimpleQueue(sys.argv[2])
    queue.get(timeout=30)
    print("taken", flush=True)
    time.sleep(300)
"""


def deliver_to_a_worker_that_dies(queue_url: str, job_id: str) -> None:
    """The job's message is sent as the API sends it, taken by a worker, and the worker is
    SIGKILLed before it claims the job: the message stays unacknowledged in the broker."""
    celery_client(queue_url).send_task(PRUNE_TASK, args=[job_id], queue=GPU_QUEUE)
    set_job(job_id, enqueued_at=utcnow())
    worker = subprocess.Popen(
        [sys.executable, "-c", TAKE_ONE_MESSAGE, queue_url, GPU_QUEUE],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "taken"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)


def test_a_job_whose_worker_died_right_after_the_delivery_is_sent_again(
    make_job: MakeJob,
    worker_settings: Callable[..., Settings],
    queue_url: str,
    queue_client: redis.Redis,
) -> None:
    settings = worker_settings(heartbeat_timeout_seconds=5, requeue_after_seconds=2)
    job_id, untaken_id = make_job("succeed"), make_job("succeed")
    deliver_to_a_worker_that_dies(queue_url, job_id)
    set_job(untaken_id, enqueued_at=utcnow() - timedelta(seconds=10))  # still in the queue
    assert job_id not in sweep_once(settings, queue_client)[0]  # a live worker may still claim it
    time.sleep(2.5)
    sent = sweep_once(settings, queue_client)[0]
    assert job_id in sent and untaken_id not in sent
    # The new send replaced the taken message: later passes leave the job to its new message.
    assert job_id not in sweep_once(settings, queue_client)[0]


def test_a_claimed_job_whose_message_is_unacknowledged_is_left_alone(
    make_job: MakeJob,
    worker_settings: Callable[..., Settings],
    queue_url: str,
    queue_client: redis.Redis,
) -> None:
    settings = worker_settings(heartbeat_timeout_seconds=60, requeue_after_seconds=2)
    job_id = make_job("succeed")
    deliver_to_a_worker_that_dies(queue_url, job_id)
    set_job(job_id, status="running", attempts=1, heartbeat_at=utcnow() + timedelta(seconds=30))
    time.sleep(2.5)
    assert job_id not in sweep_once(settings, queue_client)[0]
    assert load_job(job_id).status == "running"
