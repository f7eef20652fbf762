"""One attempt keeps its claim from claim to record, however slow its input fetch and its
packaging; a result that arrives after the job left the attempt is reported, never silent."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select, update

from app.core.db.models import Blob, Job, JobArtifact
from app.core.db.session import session_scope
from app.core.events import read_stream
from app.core.settings import Settings
from tests.worker.conftest import artifact_blobs, job_events, load_job
from tests.worker.fake_trainer import LONG_STEPS
from tests.worker.test_job_runner import ALL_KINDS
from worker import job_runner
from worker.attempt_guard import AttemptFolder
from worker.job_runner import RunResult, run_job
from worker.sweeper import sweep
from worker.trainer_lines import ProgressSampler

MakeJob = Callable[[str], str]
MakeSettings = Callable[..., Settings]
HEARTBEAT_TIMEOUT = 2
SLOW_SECONDS = 3.5  # each of input fetch and packaging: longer than the heartbeat timeout


def slowed(monkeypatch: pytest.MonkeyPatch, name: str, before: Callable[[], None]) -> None:
    real = getattr(job_runner, name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        before()
        return real(*args, **kwargs)

    monkeypatch.setattr(job_runner, name, slow)


def run_in_thread(
    job_id: str, settings: Settings, client: redis.Redis
) -> tuple[threading.Thread, list]:
    results: list[RunResult] = []
    thread = threading.Thread(target=lambda: results.append(run_job(job_id, settings, client)))
    thread.start()
    return thread, results


def test_slow_fetch_and_packaging_succeed_at_attempt_one(
    make_job: MakeJob,
    worker_settings: MakeSettings,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = worker_settings(heartbeat_timeout_seconds=HEARTBEAT_TIMEOUT)
    slowed(monkeypatch, "fetch_inputs", lambda: time.sleep(SLOW_SECONDS))
    slowed(monkeypatch, "package_outputs", lambda: time.sleep(SLOW_SECONDS))
    job_id = make_job("succeed")
    worker, results = run_in_thread(job_id, settings, redis_client)
    resent: list[str] = []
    duplicates: list[RunResult] = []
    while worker.is_alive():
        # The sweeper, and a second delivery of the same job, as another worker would run them.
        sweep(settings, redis_client, lambda j: resent.append(j) or True, lambda *_: None)
        if load_job(job_id).status == "running":
            duplicates.append(run_job(job_id, settings, redis_client))
        time.sleep(0.5)
    worker.join()
    assert job_id not in resent
    assert set(duplicates) <= {RunResult.DONE} and duplicates
    assert results == [RunResult.DONE]
    job = load_job(job_id)
    assert (job.status, job.attempts) == ("succeeded", 1)
    assert set(artifact_blobs(job_id)) == ALL_KINDS
    statuses = [data["status"] for _seq, kind, data in job_events(job_id) if kind == "status"]
    assert statuses == ["running", "succeeded"]


def test_a_result_after_the_job_left_the_attempt_is_reported(
    make_job: MakeJob,
    worker_settings: MakeSettings,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    job_id = make_job("succeed")

    def taken_over() -> None:  # as if the sweeper had handed the job to attempt 2
        with session_scope() as session:
            session.execute(update(Job).where(Job.id == job_id).values(attempts=2))

    slowed(monkeypatch, "package_outputs", taken_over)
    with caplog.at_level(logging.ERROR, logger="worker.job_runner"):
        assert run_job(job_id, worker_settings(), redis_client) is RunResult.DONE
    job = load_job(job_id)
    assert (job.status, job.attempts) == ("running", 2)  # attempt 2's now, untouched
    assert artifact_blobs(job_id) == {}
    assert any("attempt 1 finished after the job had left it" in w for w in job.warnings)
    assert "its result is discarded" in caplog.text


def test_a_new_attempt_removes_only_abandoned_folders(tmp_path: Path) -> None:
    abandoned = tmp_path / "job" / "attempt-1"
    abandoned.mkdir(parents=True)
    (abandoned / "model.keras").write_bytes(b"left by a worker that died")
    with AttemptFolder(tmp_path / "job" / "attempt-2") as live:
        (live / "data.npz").write_bytes(b"in use")
        with AttemptFolder(tmp_path / "job" / "attempt-3") as later:
            assert later.is_dir()
            assert not abandoned.exists()
            assert (live / "data.npz").read_bytes() == b"in use"
        assert not later.exists()
    assert not (tmp_path / "job").exists()


def test_progress_history_is_bounded_and_keeps_what_a_user_needs(
    make_job: MakeJob, worker_settings: MakeSettings, redis_client: redis.Redis
) -> None:
    job_id = make_job("long")
    settings = worker_settings(progress_db_interval_seconds=0.02)
    assert run_job(job_id, settings, redis_client) is RunResult.DONE
    job = load_job(job_id)
    assert job.status == "succeeded" and job.progress["step"] == LONG_STEPS
    kept = [data for _seq, kind, data in job_events(job_id) if kind == "progress"]
    mask_steps = set(range(100, LONG_STEPS + 1, 100))
    assert mask_steps <= {p["step"] for p in kept}
    assert len(kept) <= ProgressSampler.SAMPLES + len(mask_steps) + 1
    assert kept[-1]["step"] == LONG_STEPS
    assert len({p["step"] * 10 // LONG_STEPS for p in kept}) == 10 + 1  # spread over the run
    # The live stream had them all (what a connected client saw), in order.
    live = [e for e in read_stream(redis_client, job_id, 0, 0) if e.type == "progress"]
    assert len(live) > len(kept) and [e.seq for e in live] == sorted(e.seq for e in live)
    with session_scope() as session:
        report = session.scalar(
            select(Blob.size_bytes)
            .join(JobArtifact, JobArtifact.blob_id == Blob.id)
            .where(JobArtifact.job_id == job_id, JobArtifact.kind == "report.png")
        )
    assert report is not None and report > 10_000
