"""The job runner against real Postgres and Redis, with a fake trainer in the subprocess."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import psutil
import redis
from sqlalchemy import update

from app.core.db.models import Job, utcnow
from app.core.db.session import session_scope
from app.core.events import read_stream
from app.core.settings import Settings
from app.devserver.embedded._process import free_port
from tests.worker.conftest import artifact_blobs, job_events, load_job
from worker.job_runner import RunResult, run_job
from worker.job_writer import worker_redis

ALL_KINDS = {
    "saved_model.zip",
    "saved_model.tar.gz",
    "model.keras",
    "metrics.json",
    "tensorboard.tar.gz",
    "report.png",
}
MakeJob = Callable[[str], str]
MakeSettings = Callable[..., Settings]


def run(job_id: str, settings: Settings, client: redis.Redis) -> RunResult:
    return run_job(job_id, settings, client)


def test_successful_job_stores_everything_once(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    settings = worker_settings()
    assert run(job_id, settings, redis_client) is RunResult.DONE

    job = load_job(job_id)
    assert (job.status, job.attempts, job.error) == ("succeeded", 1, None)
    assert job.metrics == {
        "pruned": {"accuracy": 0.9},
        "sparsity": {"target": 0.8, "achieved": 0.8},
        "training": {"devices": "first", "logical_cpus": 1},
    }
    assert job.progress is not None and job.progress["step"] == 4
    assert "fake trainer" in job.warnings
    assert set(artifact_blobs(job_id)) == ALL_KINDS

    events = job_events(job_id)
    types = [(kind, data.get("status")) for _seq, kind, data in events]
    assert types[0] == ("status", "running")
    assert types[-2:] == [("metrics", None), ("status", "succeeded")]
    assert [data["step"] for _s, kind, data in events if kind == "progress"] == [0, 1, 2, 3, 4]
    streamed = read_stream(redis_client, job_id, after_seq=0, block_ms=0)
    assert [(e.seq, e.type) for e in streamed] == [(seq, kind) for seq, kind, _ in events]
    assert not (settings.scratch_dir / job_id).exists()


def test_the_trainer_trains_on_the_devices_the_worker_is_given(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    settings = worker_settings(trainer_devices="GPU:0,GPU:1", trainer_logical_cpus=2)
    assert run(job_id, settings, redis_client) is RunResult.DONE
    job = load_job(job_id)
    assert job.metrics["training"] == {"devices": "GPU:0,GPU:1", "logical_cpus": 2}


def test_second_delivery_of_a_finished_job_changes_nothing(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    settings = worker_settings()
    run(job_id, settings, redis_client)
    blobs, events = artifact_blobs(job_id), job_events(job_id)
    assert run(job_id, settings, redis_client) is RunResult.DONE
    assert artifact_blobs(job_id) == blobs and job_events(job_id) == events
    assert load_job(job_id).attempts == 1


def test_trainer_error_fails_the_job_with_its_reason(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("error")
    assert run(job_id, worker_settings(), redis_client) is RunResult.DONE
    job = load_job(job_id)
    assert job.status == "failed" and job.attempts == 1
    assert job.error == {"code": "invalid_data", "message": "y_train has labels outside [0, 10)"}
    assert artifact_blobs(job_id) == {}


def test_trainer_crashing_every_time_fails_after_the_attempt_cap(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("crash")
    settings = worker_settings(max_attempts=3)
    results = []
    for _delivery in range(5):
        results.append(run(job_id, settings, redis_client))
        if results[-1] is RunResult.DONE:
            break
        assert load_job(job_id).status == "queued"
    assert results == [RunResult.RETRY, RunResult.RETRY, RunResult.DONE]
    job = load_job(job_id)
    assert (job.status, job.attempts) == ("failed", 3)
    assert job.error is not None and job.error["code"] == "attempts_exhausted"
    assert "SIGKILL" in job.error["message"]


def test_a_job_past_its_time_limit_fails_and_its_trainer_is_gone(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("hang")
    started = time.monotonic()
    assert run(job_id, worker_settings(job_time_limit_seconds=2), redis_client) is RunResult.DONE
    assert time.monotonic() - started < 15
    job = load_job(job_id)
    assert job.status == "failed" and job.error is not None
    assert job.error["code"] == "time_limit_exceeded"
    assert job.progress is not None and not psutil.pid_exists(job.progress["pid"])


def test_a_trainer_over_its_memory_limit_fails_at_once_as_out_of_memory(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("hog")
    settings = worker_settings(trainer_memory_limit_bytes=200 * 1024**2, max_attempts=3)
    assert run(job_id, settings, redis_client) is RunResult.DONE  # not RETRY
    job = load_job(job_id)
    assert (job.status, job.attempts) == ("failed", 1)
    assert job.error is not None and job.error["code"] == "out_of_memory"
    message = job.error["message"]
    assert "limit of 200 MiB" in message and "batch_size" in message
    assert "TRAINER_MEMORY_LIMIT_BYTES" in message
    peak_mib = int(message.split("used ")[1].split(" MiB")[0])
    assert peak_mib > 200


def test_a_trainer_flooding_stdout_fails_the_job_with_a_clear_code(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("flood")
    worker = psutil.Process()
    before = worker.memory_info().rss
    assert run(job_id, worker_settings(), redis_client) is RunResult.DONE
    job = load_job(job_id)
    assert (job.status, job.attempts) == ("failed", 1)
    assert job.error is not None and job.error["code"] == "trainer_output_flood"
    assert "longer than" in job.error["message"]
    assert worker.memory_info().rss - before < 200 * 1024**2


def test_cancel_stops_a_running_job_within_seconds(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("stubborn")
    result: list[RunResult] = []
    runner = threading.Thread(
        target=lambda: result.append(run(job_id, worker_settings(), redis_client))
    )
    runner.start()
    deadline = time.monotonic() + 20
    while (load_job(job_id).progress or {}).get("pid") is None:
        assert time.monotonic() < deadline, "the job never reported progress"
        time.sleep(0.1)
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(cancel_requested=True))
    asked = time.monotonic()
    runner.join(20)
    assert time.monotonic() - asked < 10 and result == [RunResult.DONE]
    job = load_job(job_id)
    assert job.status == "cancelled" and job.finished_at is not None
    assert not psutil.pid_exists(job.progress["pid"])  # type: ignore[index]


def test_a_job_cancelled_while_queued_never_starts(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(cancel_requested=True))
    assert run(job_id, worker_settings(), redis_client) is RunResult.DONE
    job = load_job(job_id)
    assert (job.status, job.attempts, job.started_at) == ("cancelled", 0, None)


def test_delivery_of_a_job_another_worker_is_running_is_skipped(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    with session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="running", attempts=1, heartbeat_at=utcnow())
        )
    assert run(job_id, worker_settings(), redis_client) is RunResult.DONE
    assert (load_job(job_id).status, load_job(job_id).attempts) == ("running", 1)


def test_job_of_a_dead_worker_runs_again_with_one_set_of_artifacts(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("succeed")
    settings = worker_settings(heartbeat_timeout_seconds=30)
    stale = utcnow() - timedelta(seconds=60)
    with session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="running", attempts=1, heartbeat_at=stale)
        )
    assert run(job_id, settings, redis_client) is RunResult.DONE
    job = load_job(job_id)
    assert (job.status, job.attempts) == ("succeeded", 2)
    assert set(artifact_blobs(job_id)) == ALL_KINDS


def test_job_completes_while_redis_is_unreachable(
    make_job: MakeJob, worker_settings: MakeSettings
) -> None:
    job_id = make_job("succeed")
    unreachable = worker_redis(f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    assert run(job_id, worker_settings(), unreachable) is RunResult.DONE
    assert time.monotonic() - started < 10
    assert load_job(job_id).status == "succeeded"
    assert job_events(job_id)[-1][2] == {"status": "succeeded"}
