"""One small pruning job through the whole service (upload, submit, poll until succeeded,
download) against the same job run directly with the engine's command line."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.service_client import download, job_events, submit, upload, wait_until_finished
from bench.service_harness import RunningService

HPARAMS = {"target_sparsity": 0.75, "pruning_frequency": 10, "sparsity_function_end_step": 80}
TRAINING = {"steps": 100, "batch_size": 32, "from_logits": True}
POLL_SECONDS = 0.25
JOB_TIMEOUT_SECONDS = 900


def direct_run(model: Path, data: Path, out: Path) -> dict[str, float]:
    """`python -m worker.pruning` as a user would run it: its wall time, and when its first and
    last progress lines arrived (seconds from the start)."""
    argv = [sys.executable, "-m", "worker.pruning", str(model), str(data), "--out", str(out)]
    argv += ["--hparams", json.dumps(HPARAMS), "--training", json.dumps(TRAINING)]
    with tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        trainer = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            progress, last = _progress_times(trainer, started)
            returncode = trainer.wait()
        except BaseException:  # Ctrl-C included: leave no trainer behind
            trainer.kill()
            trainer.wait()
            raise
        seconds = time.perf_counter() - started
        if returncode != 0 or last.get("event") != "metrics" or not progress:
            stderr.seek(0)
            raise RuntimeError(f"the direct run failed: {stderr.read()[-3000:]}")
    return {"seconds": seconds, "first_step_at": progress[0], "last_step_at": progress[-1]}


def _progress_times(
    trainer: subprocess.Popen[str], started: float
) -> tuple[list[float], dict[str, Any]]:
    """When each progress line arrived, and the last line, reading until the trainer closes
    its stdout."""
    assert trainer.stdout is not None
    arrivals, last = [], {}
    for line in trainer.stdout:
        last = json.loads(line)
        if last.get("event") == "progress":
            arrivals.append(time.perf_counter() - started)
    return arrivals, last


def _at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


def _timeline(client: httpx.Client, job: dict[str, Any]) -> dict[str, float]:
    """From the job's timestamps and its progress events (stamped as the worker read them)."""
    steps = [
        data["updated_at"] for kind, data in job_events(client, job["id"]) if kind == "progress"
    ]
    started, finished = _at(job["started_at"]), _at(job["finished_at"])
    return {
        "queued_seconds": (started - _at(job["created_at"])).total_seconds(),
        "started_to_first_step_seconds": (_at(steps[0]) - started).total_seconds(),
        "first_to_last_step_seconds": (_at(steps[-1]) - _at(steps[0])).total_seconds(),
        "last_step_to_finished_seconds": (finished - _at(steps[-1])).total_seconds(),
    }


def service_run(service: RunningService, model: Path, data: Path, dest: Path) -> dict[str, Any]:
    """Upload both files, submit, poll until succeeded, download the pruned SavedModel."""
    with service.client() as client:
        started = time.perf_counter()
        body = {"model_id": upload(client, "models", model)["id"]}
        body["dataset_id"] = upload(client, "datasets", data)["id"]
        uploaded = time.perf_counter()
        job = submit(client, {**body, "hparams": HPARAMS, "training": TRAINING})
        job = wait_until_finished(client, job["id"], POLL_SECONDS, JOB_TIMEOUT_SECONDS)
        finished = time.perf_counter()
        if job["status"] != "succeeded":
            raise RuntimeError(f"the service's job ended {job['status']}: {job['error']}")
        download(client, f"/v1/jobs/{job['id']}/model", dest)
        done = time.perf_counter()
        timeline = _timeline(client, job)
    return {
        "job_id": job["id"],
        "seconds": done - started,
        "uploads_seconds": uploaded - started,
        "submit_to_seen_finished_seconds": finished - uploaded,
        "download_seconds": done - finished,
        **timeline,
    }


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [key for key in runs[0] if key != "job_id"]
    return {key: round(statistics.median(run[key] for run in runs), 3) for key in keys}


def _direct_phases(run: dict[str, float]) -> dict[str, float]:
    return {
        "seconds": run["seconds"],
        "start_to_first_step_seconds": run["first_step_at"],
        "first_to_last_step_seconds": run["last_step_at"] - run["first_step_at"],
        "last_step_to_exit_seconds": run["seconds"] - run["last_step_at"],
    }


def compare_job_runs(
    service: RunningService, model: Path, data: Path, repeats: int
) -> dict[str, Any]:
    """`repeats` runs of each, taking turns (direct first), medians compared."""
    scratch = service.root / "jobs"
    scratch.mkdir()
    direct, through_service = [], []
    for turn in range(repeats):
        direct.append(_direct_phases(direct_run(model, data, scratch / f"direct-{turn}")))
        through_service.append(service_run(service, model, data, scratch / f"pruned-{turn}.zip"))
    direct_median, service_median = _medians(direct), _medians(through_service)
    return {
        "direct": {**direct_median, "runs": [round(run["seconds"], 3) for run in direct]},
        "service": {
            **service_median,
            "runs": [round(run["seconds"], 3) for run in through_service],
            "job_ids": [run["job_id"] for run in through_service],
        },
        "overhead_seconds": round(service_median["seconds"] - direct_median["seconds"], 3),
        "service_over_direct": round(service_median["seconds"] / direct_median["seconds"], 3),
        "hparams": HPARAMS,
        "training": TRAINING,
        "how": f"the digits CNN (.keras) on scikit-learn's digits (.npz); {repeats} run(s) of "
        "each, taking turns, medians per field. direct: wall time of `python -m worker.pruning "
        "MODEL DATA --hparams --training --out` (TensorFlow start-up included), phases from when "
        "its first and last progress lines arrived. service: wall time from the first upload "
        "byte to the last byte of GET /v1/jobs/{id}/model, polling GET /v1/jobs/{id} every "
        f"{POLL_SECONDS} s; phases from the job's timestamps and its progress events' updated_at "
        "(when the worker read the trainer's line). last step to finished/exit includes the "
        "trainer's final evaluation and export in both; the service also packages and stores "
        "the artifacts (zip, tar.gz, TensorBoard, report.png) in Postgres.",
    }
