"""One delivery of a job: claim it, run one attempt of the trainer, record how it ended."""

from __future__ import annotations

import json
import logging
import time
from enum import Enum
from pathlib import Path

import redis
from sqlalchemy.exc import InterfaceError, OperationalError

from app.core.db.session import session_scope
from app.core.settings import Settings, get_settings
from worker import job_state
from worker.attempt_guard import AttemptFolder, AttemptHeartbeat
from worker.job_inputs import InputError, fetch_inputs
from worker.job_state import ClaimedJob
from worker.job_writer import JobWriter, worker_redis
from worker.packaging import ArtifactError, package_outputs, read_metrics
from worker.report_plot import render_report, render_sensitivity_report
from worker.supervisor import Outcome, Supervisor
from worker.trainer_process import TrainerLimits, TrainerProcess, trainer_command

log = logging.getLogger(__name__)

DATABASE_OUTAGE_SECONDS = 120.0
DATABASE_RETRY_SECONDS = 2.0


class RunResult(Enum):
    DONE = "done"  # finished, skipped, or left to whoever owns the job now
    RETRY = "retry"  # back in `queued` after a crash: send the task again


def run_job(
    job_id: str, settings: Settings | None = None, redis_client: redis.Redis | None = None
) -> RunResult:
    settings = settings or get_settings()
    if redis_client is None:
        if not settings.redis_url:
            raise RuntimeError("REDIS_URL is not set; start Shears with `make run`, which sets it")
        redis_client = worker_redis(settings.redis_url)
    writer = JobWriter(job_id, redis_client, settings)
    job = job_state.claim(writer, settings)
    if job is None:
        log.info("job %s: nothing to run", job_id)
        return RunResult.DONE
    folder = AttemptFolder(settings.scratch_dir / job.id / f"attempt-{job.attempt}")
    with AttemptHeartbeat(writer, job.attempt), folder as scratch:
        try:
            return _run_attempt(writer, job, scratch, settings)
        except Exception as exc:  # a worker-side failure: retried, never left `running`
            log.exception("job %s: attempt %s failed in the worker", job.id, job.attempt)
            retry = job_state.release_for_retry(writer, job.attempt, "worker_error", str(exc))
            return RunResult.RETRY if retry else RunResult.DONE


def _run_attempt(
    writer: JobWriter, job: ClaimedJob, scratch: Path, settings: Settings
) -> RunResult:
    try:
        model_path, data_path = fetch_inputs(job, scratch, settings)
    except InputError as exc:
        job_state.fail(writer, job.attempt, exc.code, exc.message)
        return RunResult.DONE
    out = scratch / "out"
    command = trainer_command(
        model_path,
        data_path,
        json.dumps(job.hparams),
        json.dumps(job.training),
        out,
        json.dumps(job.exports),
        job.kind,
        settings.fake_trainer_command,
        devices=settings.trainer_devices,
        logical_cpus=settings.trainer_logical_cpus,
    )
    trainer = TrainerProcess(command, scratch, TrainerLimits(settings.trainer_memory_limit_bytes))
    try:
        outcome = Supervisor(trainer, writer, job.attempt, settings).run()
    finally:
        if trainer.proc.poll() is None:  # the supervisor itself failed: no trainer left behind
            trainer.kill()
    return _record(writer, job, outcome, out, scratch / "artifacts", settings)


def _record(
    writer: JobWriter,
    job: ClaimedJob,
    outcome: Outcome,
    out: Path,
    artifacts_dir: Path,
    settings: Settings,
) -> RunResult:
    """Record how the attempt ended, waiting out a short Postgres outage rather than losing
    the finished work."""
    deadline = time.monotonic() + DATABASE_OUTAGE_SECONDS
    while True:
        try:
            return _record_once(writer, job, outcome, out, artifacts_dir, settings)
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("job %s: Postgres unavailable, retrying: %s", job.id, exc)
            time.sleep(DATABASE_RETRY_SECONDS)


def _record_once(
    writer: JobWriter,
    job: ClaimedJob,
    outcome: Outcome,
    out: Path,
    artifacts_dir: Path,
    settings: Settings,
) -> RunResult:
    if outcome.kind == "succeeded":
        try:
            _store_success(writer, job, out, artifacts_dir, settings)
        except ArtifactError as exc:
            job_state.fail(writer, job.attempt, exc.code, exc.message)
    elif outcome.kind == "failed":
        job_state.fail(writer, job.attempt, outcome.code, outcome.message)
    elif outcome.kind == "cancelled":
        job_state.cancel(writer, job.attempt)
    elif outcome.kind == "crashed":
        if job_state.release_for_retry(writer, job.attempt, outcome.code, outcome.message):
            return RunResult.RETRY
    return RunResult.DONE


def _store_success(
    writer: JobWriter, job: ClaimedJob, out: Path, artifacts_dir: Path, settings: Settings
) -> None:
    metrics = read_metrics(out)
    if job.kind == "sensitivity":  # no model comes out, only the measurements
        artifacts_dir.mkdir(parents=True, exist_ok=True)
        files = {"metrics.json": out / "metrics.json"}
        report = render_sensitivity_report(metrics, artifacts_dir / "report.png", f"job {job.id}")
        files["report.png"] = report
        job_state.succeed(writer, job, files, metrics)
        return
    files = package_outputs(
        out,
        artifacts_dir,
        job.model_format == "keras",
        settings.max_extracted_bytes,
        job.exports,
    )
    with session_scope() as session:
        history = job_state.progress_history(session, job.id)
    files["report.png"] = render_report(history, artifacts_dir / "report.png", f"job {job.id}")
    if not job_state.succeed(writer, job, files, metrics):
        log.error(
            "job %s: attempt %s finished but the job is no longer its own (cancelled, deleted or "
            "taken over); its result is discarded",
            job.id,
            job.attempt,
        )
        job_state.note_discarded_result(writer, job.attempt)
