"""Ten thousand jobs in the queue, on one machine: the real API, Postgres and Redis, 20 Celery
workers with the fake trainer, 5 of them SIGKILLed halfway and replaced (bench/scale_sim.py).

While the backlog stands, sweeper passes are timed here, directly, against the same Postgres
and Redis, with the queued count topped up to SWEEP_BACKLOG by "ballast" rows (queued, sent,
another tenant's; removed right after) when the run is smaller than that.

    python -m bench.scale [--quick] [--jobs N] [--workers N] [--seconds-per-job S]

Writes bench/results/scale.json and scale.png.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import redis  # noqa: E402
from sqlalchemy import delete, func, insert, select  # noqa: E402

from app.core.db.models import Job, Tenant, new_id, utcnow  # noqa: E402
from app.core.db.session import session_scope  # noqa: E402
from app.core.queue import send_job  # noqa: E402
from app.core.settings import get_settings  # noqa: E402
from bench.common import RESULTS_DIR, write_result  # noqa: E402
from bench.scale_sim import Scenario, percentiles, run_scenario  # noqa: E402
from bench.service_harness import RunningService  # noqa: E402
from bench.service_inputs import digits_job_inputs  # noqa: E402
from worker import sweeper  # noqa: E402

SWEEP_BACKLOG = 10_000
SWEEP_PASSES = 60
GOALS = {"drain_ratio": 1.25, "sweep_p99_ms": 100.0, "list_p99_ms": 50.0}


class SweepTimer:
    """Times sweeper passes that did the work (took the advisory lock), in ms."""

    def __init__(self, heartbeat_timeout: int) -> None:
        self.settings = get_settings().model_copy(
            update={
                "requeue_after_seconds": heartbeat_timeout,
                "heartbeat_timeout_seconds": heartbeat_timeout,
            }
        )
        self.ms: list[float] = []
        self.queued = self.ballast = 0
        self._turn = sweeper.take_turn
        self._took = False

    def _take_turn(self, session: Any) -> bool:
        self._took = self._turn(session)
        return self._took

    def __call__(self, service: RunningService) -> None:
        client = redis.Redis.from_url(service.redis_url)
        ballast = _add_ballast(SWEEP_BACKLOG)
        sweeper.take_turn = self._take_turn
        try:
            with session_scope() as session:
                self.queued = int(
                    session.scalar(select(func.count()).where(Job.status == "queued")) or 0
                )
            self.ballast = ballast[1]
            attempts = 0
            while len(self.ms) < SWEEP_PASSES and attempts < 10 * SWEEP_PASSES:
                attempts += 1
                started = time.perf_counter()
                sweeper.sweep(self.settings, client, send_job, lambda *_: None)
                if self._took:
                    self.ms.append(1000 * (time.perf_counter() - started))
                time.sleep(0.05)
        finally:
            sweeper.take_turn = self._turn
            _remove_ballast(ballast[0])
            client.close()


def _add_ballast(target: int) -> tuple[str, int]:
    """Queued, already-sent jobs of a tenant of their own, so SWEEP_BACKLOG are queued."""
    with session_scope() as session:
        queued = int(session.scalar(select(func.count()).where(Job.status == "queued")) or 0)
        tenant = Tenant(name="scale-ballast")
        session.add(tenant)
        session.flush()
        long_ago = utcnow() - timedelta(hours=1)
        rows = [
            {
                "id": new_id("job"),
                "tenant_id": tenant.id,
                "status": "queued",
                "hparams": {},
                "training": {},
                "warnings": [],
                "updated_at": long_ago,
                "enqueued_at": long_ago,
            }
            for _ in range(max(0, target - queued))
        ]
        if rows:
            session.execute(insert(Job), rows)
        return tenant.id, len(rows)


def _remove_ballast(tenant_id: str) -> None:
    with session_scope() as session:
        session.execute(delete(Tenant).where(Tenant.id == tenant_id))


def plot(result: dict[str, Any], path: Path) -> Path:
    figure, axes = plt.subplots(1, 3, figsize=(11, 3.8), dpi=100)
    drain = axes[0]
    drain.bar(["ideal", "measured"], [result["ideal_seconds"], result["drain_seconds"] or 0])
    drain.axhline(GOALS["drain_ratio"] * result["ideal_seconds"], ls="--", c="C3", label="goal")
    drain.set_title(f"drain, {result['jobs']} jobs / {result['workers']} workers")
    drain.set_ylabel("seconds")
    sweep = axes[1]
    sweep.bar(["p50", "p99"], [result["sweep_ms"]["p50"], result["sweep_ms"]["p99"]])
    sweep.axhline(GOALS["sweep_p99_ms"], ls="--", c="C3", label="goal (p99)")
    sweep.set_title(f"one sweeper pass, {result['sweep_ms']['queued']} queued")
    sweep.set_ylabel("ms")
    lists = axes[2]
    names = ["queued_limit_50", "all", "job"]
    bars = (("list_ms", "p99", "p99, workers busy"), ("list_ms_workers_idle", "p99", "p99, idle"))
    for offset, (key, stat, label) in zip((-0.2, 0.2), bars, strict=True):
        values = [result[key][name][stat] for name in names]
        lists.bar([i + offset for i in range(len(names))], values, width=0.4, label=label)
    lists.set_xticks(range(len(names)), ["?status=queued", "all", "one job"])
    lists.axhline(GOALS["list_p99_ms"], ls="--", c="C3", label="goal (p99)")
    lists.set_title(f"GET /v1/jobs, {result['peak_rows']['jobs']} rows")
    lists.set_ylabel("ms")
    for axis in axes:
        axis.legend(fontsize=8)
        axis.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="CI-sized: 200 jobs")
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--seconds-per-job", type=float, default=3.0)
    parser.add_argument("--table-rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    jobs = args.jobs or (200 if args.quick else 10_000)
    table_rows = 10_000 if args.quick else args.table_rows
    scenario = Scenario(
        jobs=jobs,
        workers=args.workers,
        kills=5,
        seconds_per_job=args.seconds_per_job,
        client_threads=4,
        table_rows=max(0, table_rows - jobs),
        drain_timeout=max(600.0, 3 * jobs * args.seconds_per_job / args.workers),
    )
    timer = SweepTimer(scenario.heartbeat_timeout)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        model, data = digits_job_inputs(Path(folder))
        result = run_scenario(scenario, model, data, on_backlog=timer)
    result["quick"] = args.quick
    # Other work on the machine slows every number here: the 1-minute load, before and after.
    result["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    result["sweep_ms"] = {
        **percentiles(timer.ms),
        "queued": timer.queued,
        "ballast_rows": timer.ballast,
        "mean": round(statistics.fmean(timer.ms), 2) if timer.ms else None,
    }
    result["drain_ratio"] = round((result["drain_seconds"] or 0) / result["ideal_seconds"], 3)
    result["goals"] = GOALS
    write_result("scale", result)
    plot(result, RESULTS_DIR / "scale.png")
    print({k: result[k] for k in ("drain_ratio", "sweep_ms", "list_ms", "duplicates", "lost")})
    return 0 if result["lost"] == 0 and result["duplicates"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
