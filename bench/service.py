"""The service's own speed, in one run on loopback (127.0.0.1), each against what it wraps:

1. GET /v1/jobs/{id}, /v1/jobs and /v1/models against GET /healthz of the same API process:
   requests/s, p50/p99;
2. uploading and downloading a 1 GiB SavedModel archive against a plain local copy of the file,
   with the API process's peak RSS growth during each;
3. one small pruning job through the whole service against the engine's command line.

    python -m bench.service [--quick] [--only requests|transfers]

`--only` runs part 1 or 2 alone and replaces just that part of bench/results/service.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import RESULTS_DIR, write_result
from bench.service_client import LatencyLog, download, timed_get, upload
from bench.service_harness import PeakRss, RunningService, running_service
from bench.service_inputs import digits_job_inputs, padded_saved_model_zip
from bench.service_jobs import compare_job_runs

MiB = 1024**2
CLIENTS = 4
ROUNDS = 4
COPIES = 3
READ_GOAL_OVER_HEALTHZ = 0.7
# The reads users poll, measured against /healthz (which reads nothing).
READS = {
    "job_status": "/v1/jobs/{job_id}",
    "jobs_list": "/v1/jobs?limit=50",
    "models_list": "/v1/models?limit=50",
}
UPLOAD_GOAL_OVER_COPY = 5
DOWNLOAD_GOAL_OVER_COPY = 3


async def _fetch_many(
    service: RunningService, path: str, requests: int
) -> tuple[LatencyLog, float]:
    """`requests` GETs of `path` shared by CLIENTS clients, each on its own keep-alive connection
    (opened by one untimed request); the log and the wall time."""
    log = LatencyLog()

    async def one_client(client: httpx.AsyncClient) -> None:
        for _ in range(requests // CLIENTS):
            await timed_get(client, path, log)

    clients = [
        httpx.AsyncClient(base_url=service.base_url, headers=service.headers, timeout=30)
        for _ in range(CLIENTS)
    ]
    try:
        await asyncio.gather(*(client.get(path) for client in clients))
        started = time.perf_counter()
        await asyncio.gather(*(one_client(client) for client in clients))
        return log, time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


def request_rates(service: RunningService, job_id: str, requests: int) -> dict[str, Any]:
    """Each endpoint in alternating rounds, so drift in the machine's load hits all alike."""
    paths = {
        "healthz": "/healthz",
        **{name: path.format(job_id=job_id) for name, path in READS.items()},
    }
    logs = {name: LatencyLog() for name in paths}
    seconds = dict.fromkeys(paths, 0.0)
    for _ in range(ROUNDS):
        for name, path in paths.items():
            log, elapsed = asyncio.run(_fetch_many(service, path, requests // ROUNDS))
            logs[name].extend(log)
            seconds[name] += elapsed
    summaries = {name: logs[name].summary(seconds[name]) for name in paths}
    health = summaries["healthz"]
    over_healthz = {
        name: {
            "requests_per_second": round(
                summaries[name]["requests_per_second"] / health["requests_per_second"], 3
            ),
            "p50": round(summaries[name]["p50_ms"] / health["p50_ms"], 2),
            "p99": round(summaries[name]["p99_ms"] / health["p99_ms"], 2),
        }
        for name in READS
    }
    return {
        **summaries,
        "over_healthz": over_healthz,
        "goals": {
            f"{name}_rate": {
                "goal": f"GET {READS[name].replace('{job_id}', '{id}')} at least "
                f"{READ_GOAL_OVER_HEALTHZ}× the rate of /healthz "
                f"(measured {over_healthz[name]['requests_per_second']:.3f}×)",
                "met": over_healthz[name]["requests_per_second"] >= READ_GOAL_OVER_HEALTHZ,
            }
            for name in READS
        },
        "how": f"{requests} GETs per endpoint from {CLIENTS} concurrent httpx.AsyncClient "
        f"keep-alive connections, in {ROUNDS} alternating rounds; each GET /v1/... is "
        "authenticated (API key lookup); the job is the succeeded job of part 3, and the lists "
        "hold the few models and jobs of part 3",
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def _transfer(size: int, seconds: float, copy_seconds: float, rss: PeakRss) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 2),
        "mib_per_second": round(size / MiB / seconds, 1),
        "over_local_copy": round(seconds / copy_seconds, 1),
        "api_rss_baseline_mib": round(rss.baseline / MiB, 1),
        "api_rss_peak_growth_mib": round(rss.growth_bytes / MiB, 1),
        "rss_samples": rss.samples,
    }


def big_transfers(service: RunningService, size: int) -> dict[str, Any]:
    scratch = service.root / "transfers"
    scratch.mkdir()
    archive = padded_saved_model_zip(scratch / "big_model.zip", size)
    size = archive.stat().st_size
    copies = []
    for _ in range(COPIES):
        started = time.perf_counter()
        shutil.copyfile(archive, scratch / "copy.zip")
        copies.append(time.perf_counter() - started)
        (scratch / "copy.zip").unlink()
    copy_seconds = statistics.median(copies)
    with service.client(timeout=3600) as client:
        with PeakRss(service.api_pid) as upload_rss:
            started = time.perf_counter()
            model = upload(client, "models", archive)
            upload_seconds = time.perf_counter() - started
        fetched = scratch / "download.zip"
        with PeakRss(service.api_pid) as download_rss:
            started = time.perf_counter()
            download(client, f"/v1/models/{model['id']}/download", fetched)
            download_seconds = time.perf_counter() - started
    if model["size_bytes"] != size or _sha256(fetched) != model["sha256"]:
        raise RuntimeError("the downloaded archive differs from the uploaded one")
    upload_ratio = upload_seconds / copy_seconds
    download_ratio = download_seconds / copy_seconds
    return {
        "archive_bytes": size,
        "local_copy": {
            "seconds": round(copy_seconds, 3),
            "mib_per_second": round(size / MiB / copy_seconds, 1),
        },
        "upload": _transfer(size, upload_seconds, copy_seconds, upload_rss),
        "download": _transfer(size, download_seconds, copy_seconds, download_rss),
        "rss_goal_mib": 100,
        "goals": {
            "upload_over_copy": {
                "goal": f"upload at most {UPLOAD_GOAL_OVER_COPY}× the local copy "
                f"(measured {upload_ratio:.1f}×)",
                "met": upload_ratio <= UPLOAD_GOAL_OVER_COPY,
            },
            "download_over_copy": {
                "goal": f"download at most {DOWNLOAD_GOAL_OVER_COPY}× the local copy "
                f"(measured {download_ratio:.1f}×)",
                "met": download_ratio <= DOWNLOAD_GOAL_OVER_COPY,
            },
        },
        "how": "a real tiny tf.Module SavedModel zipped with an incompressible random file in "
        "assets/; local copy: shutil.copyfile of the same file, median of "
        f"{COPIES}, no fsync (nor does the service fsync); upload: POST /v1/models (multipart, "
        "streamed by httpx) until the 201, so it includes the server's checks (unpacking, op "
        "allow-list) and storing the blob in Postgres; download: GET /v1/models/{id}/download "
        "streamed to a file, sha256 checked afterwards; RSS: psutil on the uvicorn process every "
        "50 ms, peak minus the value just before",
    }


def _stored_result() -> dict[str, Any]:
    """The last full run's parts, kept when only one part is measured again."""
    path = RESULTS_DIR / "service.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    return {key: value for key, value in stored.items() if key != "machine"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="128 MiB archive, fewer requests")
    parser.add_argument("--only", choices=["requests", "transfers"], help="run just this part")
    args = parser.parse_args(argv)
    size = (128 if args.quick else 1024) * MiB
    requests = 800 if args.quick else 4000
    if args.only:
        with running_service() as service:
            if args.only == "transfers":
                part = {"transfers": big_transfers(service, size)}
            else:
                job = compare_job_runs(service, *digits_job_inputs(service.root), 1)
                part = {
                    "request_rates": request_rates(service, job["service"]["job_ids"][-1], requests)
                }
        path = write_result("service", {**_stored_result(), **part})
        print(f"wrote {path}")
        return 0
    repeats = 1 if args.quick else 3
    with running_service() as service:
        inputs = digits_job_inputs(service.root)
        jobs = compare_job_runs(service, *inputs, repeats)
        rates = request_rates(service, jobs["service"]["job_ids"][-1], requests)
        transfers = big_transfers(service, size)
    path = write_result(
        "service",
        {"quick": args.quick, "request_rates": rates, "transfers": transfers, "job": jobs},
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
