"""A backlog on one machine: the real API, Postgres, Redis and many Celery workers, each with
the fake trainer (Settings.fake_trainer_command); jobs submitted through the API by several
client threads, workers SIGKILLed halfway and replaced, lists polled as a dashboard would.

Used by bench/scale.py (the numbers) and by tests/e2e/test_scale_simulation.py (0 lost, 0
duplicates, scaled down).
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select, text

from app.core.db.models import Job, JobEvent
from app.core.db.session import session_scope
from bench.scale_seed import seed_finished_jobs, tenant_of_key
from bench.service_client import submit, upload
from bench.service_harness import RunningService, running_service, start_worker
from worker.sweeper import broker_forgot

FAKE_TRAINER = Path(__file__).resolve().parents[1] / "tests" / "worker" / "fake_trainer.py"
HPARAMS = {"target_sparsity": 0.5, "sparsity_function_end_step": 4}
TRAINING = {"steps": 4, "batch_size": 32, "from_logits": True}
POLL_SECONDS = 0.5
QUIET_POLLS = 100
LISTS = {"queued_limit_50": "queued", "all": "all", "job": "job"}


@dataclass(frozen=True)
class Scenario:
    jobs: int
    workers: int
    kills: int
    seconds_per_job: float
    client_threads: int = 4
    table_rows: int = 0  # finished jobs put in the table first, so lists run against this many
    drain_timeout: float = 900.0
    heartbeat_timeout: int = 15


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"p50": float("nan"), "p99": float("nan"), "n": 0}
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {"p50": round(statistics.median(ordered), 2), "p99": round(p99, 2), "n": len(ordered)}


class Dashboard(threading.Thread):
    """Polls the lists and a job's status, as a browser tab would, timing each request (ms)."""

    PATHS = {"queued": "/v1/jobs?status=queued&limit=50", "all": "/v1/jobs"}

    def __init__(self, service: RunningService, job_ids: list[str]) -> None:
        super().__init__(daemon=True)
        self.client, self.job_ids = service.client(timeout=60), job_ids
        self.ms: dict[str, list[float]] = {"queued": [], "all": [], "job": []}
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(POLL_SECONDS):
            self.poll()

    def poll(self) -> None:
        paths = dict(self.PATHS)
        if self.job_ids:
            paths["job"] = f"/v1/jobs/{self.job_ids[len(self.job_ids) // 2]}"
        for name, path in paths.items():
            started = time.perf_counter()
            self.client.get(path).raise_for_status()
            self.ms[name].append(1000 * (time.perf_counter() - started))


class TableWatch(threading.Thread):
    """Peak row counts of jobs and job_events, and how many jobs are queued now."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = {"jobs": 0, "job_events": 0}
        self.queued = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            with session_scope() as session:
                self.peak["jobs"] = max(self.peak["jobs"], _count(session, Job))
                self.peak["job_events"] = max(self.peak["job_events"], _count(session, JobEvent))
                self.queued = _count(session, Job, Job.status == "queued")
            self.stopped.wait(2.0)


def _count(session: Any, table: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def run_scenario(scenario: Scenario, model: Path, data: Path, on_backlog: Any = None) -> dict:
    """Runs it; `on_backlog(service)` is called once while the backlog stands (the bench times
    sweeper passes there). The measured numbers, as bench/results/scale.json holds them."""
    settings = {
        "FAKE_TRAINER_COMMAND": f"{sys.executable} {FAKE_TRAINER} --seconds "
        f"{scenario.seconds_per_job} --runs-dir {{runs}}",
        "TENANT_MAX_CONCURRENT_JOBS": str(10 * scenario.jobs),
        "HEARTBEAT_TIMEOUT_SECONDS": str(scenario.heartbeat_timeout),
        "REQUEUE_AFTER_SECONDS": str(scenario.heartbeat_timeout),
    }
    runs_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"shears-scale-runs-{os.getpid()}"
    runs_dir.mkdir(exist_ok=True)
    settings["FAKE_TRAINER_COMMAND"] = settings["FAKE_TRAINER_COMMAND"].format(runs=runs_dir)
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, runs_dir, ignore_errors=True)
        service = stack.enter_context(running_service(settings, workers=scenario.workers))
        # The first sweeper pass ever would take the empty broker for a lost one: not now.
        broker_forgot(redis.Redis.from_url(service.redis_url))
        with service.client() as client:
            model_id = upload(client, "models", model)["id"]
            dataset_id = upload(client, "datasets", data)["id"]
        if scenario.table_rows:
            seed_finished_jobs(
                tenant_of_key(service.api_key), model_id, dataset_id, scenario.table_rows
            )
        return _drive(service, scenario, model_id, dataset_id, runs_dir, on_backlog)


def _drive(
    service: RunningService,
    scenario: Scenario,
    model_id: str,
    dataset_id: str,
    runs_dir: Path,
    on_backlog: Any,
) -> dict:
    body = {
        "model_id": model_id,
        "dataset_id": dataset_id,
        "hparams": HPARAMS,
        "training": TRAINING,
    }
    job_ids: list[str] = []
    dashboard, tables = Dashboard(service, job_ids), TableWatch()
    dashboard.start()
    tables.start()
    local = threading.local()

    def send(_: int) -> str:
        if not hasattr(local, "client"):
            local.client = service.client()
        return str(submit(local.client, body)["id"])

    started = time.monotonic()
    with ThreadPoolExecutor(scenario.client_threads) as pool:
        for job_id in pool.map(send, range(scenario.jobs)):
            job_ids.append(job_id)
    submit_seconds = time.monotonic() - started
    if on_backlog is not None:
        on_backlog(service)
    killed = _kill_halfway(service, scenario, job_ids)
    done = _wait_for_drain(job_ids, started + scenario.drain_timeout)
    dashboard.stopped.set()
    tables.stopped.set()
    tables.join()
    dashboard.join()
    quiet = Dashboard(service, job_ids)
    for _ in range(QUIET_POLLS):  # the same requests once the workers are idle
        quiet.poll()
    return {
        "jobs": scenario.jobs,
        "workers": scenario.workers,
        "seconds_per_job": scenario.seconds_per_job,
        "submit_per_second": round(scenario.jobs / submit_seconds, 1),
        **done,
        "ideal_seconds": round(scenario.jobs * scenario.seconds_per_job / scenario.workers, 1),
        "list_ms": {name: percentiles(dashboard.ms[key]) for name, key in LISTS.items()},
        "list_ms_workers_idle": {name: percentiles(quiet.ms[key]) for name, key in LISTS.items()},
        **_runs(job_ids, runs_dir),
        "killed_workers": killed,
        "peak_rows": tables.peak,
    }


def _kill_halfway(service: RunningService, scenario: Scenario, job_ids: list[str]) -> int:
    """Once half the jobs have succeeded: SIGKILL `kills` workers (the whole process group, as
    a lost machine) and start as many new ones."""
    while _succeeded(job_ids) < len(job_ids) // 2:
        time.sleep(POLL_SECONDS)
    for victim in service.workers[: scenario.kills]:
        os.killpg(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait()
    first_new = len(service.workers)
    del service.workers[: scenario.kills]
    for number in range(first_new, first_new + scenario.kills):
        service.workers.append(start_worker(service.child_env, service.root, number))
    return scenario.kills


def _succeeded(job_ids: list[str]) -> int:
    with session_scope() as session:
        return _count(session, Job, Job.id.in_(job_ids), Job.status == "succeeded")


def _wait_for_drain(job_ids: list[str], deadline: float) -> dict[str, Any]:
    while _succeeded(job_ids) < len(job_ids) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    with session_scope() as session:
        first, last, held = session.execute(
            select(
                func.min(Job.created_at),
                func.max(Job.finished_at),
                func.avg(func.extract("epoch", Job.finished_at - Job.started_at)),
            ).where(Job.id.in_(job_ids))
        ).one()
        statuses = dict(
            session.execute(
                select(Job.status, func.count()).where(Job.id.in_(job_ids)).group_by(Job.status)
            ).all()
        )
        events = session.scalar(
            select(func.count()).select_from(JobEvent).where(JobEvent.job_id.in_(job_ids))
        )
    return {
        "drain_seconds": round((last - first).total_seconds(), 1) if last else None,
        "statuses": statuses,
        "lost": len(job_ids) - statuses.get("succeeded", 0),
        "events_per_job": round((events or 0) / len(job_ids), 2),
        # First claim to success: the fake trainer's time plus the worker's own per job.
        "mean_job_seconds": round(float(held), 2) if held is not None else None,
    }


def _runs(job_ids: list[str], runs_dir: Path) -> dict[str, Any]:
    """Jobs whose trainer ran more than once: after a fault (their worker was lost, the event
    says so) that is the retry; without one it is a duplicate."""
    runs = {job_id: _lines(runs_dir / job_id) for job_id in job_ids}
    with session_scope() as session:
        faulted = set(
            session.scalars(
                text(
                    "SELECT DISTINCT job_id FROM job_events WHERE type = 'status' "
                    "AND data->>'status' = 'queued' AND data ? 'reason'"
                )
            )
        )
    rerun = {job_id for job_id, count in runs.items() if count > 1}
    return {
        "duplicates": len(rerun - faulted),
        "retried_after_fault": len(rerun & faulted),
        "never_ran": sum(1 for count in runs.values() if count == 0),
    }


def _lines(path: Path) -> int:
    try:
        return len(path.read_text().splitlines())
    except FileNotFoundError:
        return 0
