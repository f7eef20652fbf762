"""The API under load while a real job runs: 200 clients polling GET /v1/jobs/{id} as fast as
each gets answers, and 50 SSE listeners on the job's events, for a bounded time on 127.0.0.1.

When the time is up the pollers stop, the job is cancelled, and each listener waits (bounded)
for the stream's terminal `cancelled` event.

    python -m bench.service_load [--quick] [--seconds N] [--pollers N] [--listeners N]
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import statistics
import time
from collections import Counter
from contextlib import AsyncExitStack
from typing import Any

import httpx

from bench.common import write_result
from bench.service_client import (
    LatencyLog,
    SseParser,
    submit,
    timed_get,
    upload,
    wait_until_finished,
)
from bench.service_harness import (
    PeakRss,
    RunningService,
    cpu_seconds,
    postgres_sessions,
    running_service,
)
from bench.service_inputs import digits_job_inputs

# Far more steps than the load lasts: the job is cancelled when the load ends.
LONG_TRAINING = {"steps": 1_000_000, "batch_size": 32, "from_logits": True}
HPARAMS = {"target_sparsity": 0.75, "pruning_frequency": 10}
START_TIMEOUT_SECONDS = 300
END_GRACE_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 30


def _client(
    service: RunningService, tls: ssl.SSLContext, read_timeout: float | None
) -> httpx.AsyncClient:
    timeout = httpx.Timeout(REQUEST_TIMEOUT_SECONDS, read=read_timeout)
    # One connection per client: each stands for a user of its own.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    # One shared TLS context (unused on http://): making one per client costs ~30 ms of CPU.
    return httpx.AsyncClient(
        base_url=service.base_url,
        headers=service.headers,
        timeout=timeout,
        limits=limits,
        verify=tls,
    )


async def poll(client: httpx.AsyncClient, job_id: str, deadline: float, log: LatencyLog) -> None:
    while time.monotonic() < deadline:
        await timed_get(client, f"/v1/jobs/{job_id}", log)


class Listener:
    """One SSE client: the events it received by type, during the load and in all."""

    def __init__(self) -> None:
        self.during_load: Counter[str] = Counter()
        self.total: Counter[str] = Counter()
        self.saw_end = False
        self.error: str | None = None

    async def listen(self, client: httpx.AsyncClient, job_id: str, load_ends: float) -> None:
        parser = SseParser()
        try:
            async with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
                if response.status_code != 200:
                    self.error = f"http_{response.status_code}"
                    return
                async for line in response.aiter_lines():
                    if (message := parser.feed(line)) is None:
                        continue
                    kind, data = message
                    self.total[kind] += 1
                    if time.monotonic() < load_ends:
                        self.during_load[kind] += 1
                    if kind == "status" and data.get("status") == "cancelled":
                        self.saw_end = True
                        return
            self.error = "stream_ended_without_terminal_event"
        except httpx.HTTPError as exc:
            self.error = type(exc).__name__


async def run_load(
    service: RunningService, job_id: str, seconds: float, pollers: int, listeners: int
) -> dict[str, Any]:
    """Every client is made before the clock starts; then the listeners connect and the
    pollers poll until `seconds` have passed."""
    log, tails = LatencyLog(), [Listener() for _ in range(listeners)]
    tls = ssl.create_default_context()
    async with AsyncExitStack() as clients:
        polling = [
            await clients.enter_async_context(_client(service, tls, REQUEST_TIMEOUT_SECONDS))
            for _ in range(pollers)
        ]
        streaming = [
            await clients.enter_async_context(_client(service, tls, None)) for _ in range(listeners)
        ]
        sessions_before = postgres_sessions(service.database_url)
        cpu_before, started = cpu_seconds(service.pids), time.perf_counter()
        load_ends = time.monotonic() + seconds
        listening = [
            asyncio.create_task(tail.listen(client, job_id, load_ends))
            for tail, client in zip(tails, streaming, strict=True)
        ]
        await asyncio.gather(*(poll(client, job_id, load_ends, log) for client in polling))
        polled_seconds = time.perf_counter() - started
        cpu_after = cpu_seconds(service.pids)  # before the cancel ends the trainer
        # Less the connection this second count itself opens.
        sessions = postgres_sessions(service.database_url) - sessions_before - 1
        async with _client(service, tls, REQUEST_TIMEOUT_SECONDS) as client:
            cancelled = await client.post(f"/v1/jobs/{job_id}/cancel")
        late: set[asyncio.Task[None]] = set()
        if listening:
            _, late = await asyncio.wait(listening, timeout=END_GRACE_SECONDS)
        for task in late:
            task.cancel()
    for tail, task in zip(tails, listening, strict=True):
        if task in late:
            tail.error = "no_terminal_event_in_time"
        elif (failure := task.exception()) is not None:
            tail.error = type(failure).__name__
    return {
        "polling": log.summary(polled_seconds),
        "sse": _listener_summary(tails),
        "cancel_status_code": cancelled.status_code,
        "postgres_connections_opened_during_load": sessions,
        "cpu_seconds_during_load": {
            name: round(cpu_after[name] - cpu_before[name], 1) for name in cpu_before
        },
    }


def _listener_summary(tails: list[Listener]) -> dict[str, Any]:
    progress = [tail.during_load["progress"] for tail in tails] or [0]
    errors = Counter(tail.error for tail in tails if tail.error)
    return {
        "listeners": len(tails),
        "progress_events_during_load_per_listener": {
            "min": min(progress),
            "median": statistics.median(progress),
            "max": max(progress),
        },
        "events_in_all_per_listener_median": statistics.median(
            [sum(tail.total.values()) for tail in tails] or [0]
        ),
        "listeners_that_saw_the_terminal_event": sum(tail.saw_end for tail in tails),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
    }


def start_long_job(service: RunningService) -> dict[str, Any]:
    """Submit the long job and return it once the trainer reports progress."""
    model, data = digits_job_inputs(service.root)
    with service.client() as client:
        body = {
            "model_id": upload(client, "models", model)["id"],
            "dataset_id": upload(client, "datasets", data)["id"],
            "hparams": HPARAMS,
            "training": LONG_TRAINING,
        }
        job = submit(client, body)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not job["progress"]:
            if time.monotonic() > deadline or job["status"] not in ("queued", "running"):
                raise RuntimeError(f"the job did not start training: {job}")
            time.sleep(0.5)
            job = client.get(f"/v1/jobs/{job['id']}").raise_for_status().json()
    return dict(job)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="15 s instead of 60 s")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--listeners", type=int, default=50)
    args = parser.parse_args(argv)
    seconds = args.seconds or (15.0 if args.quick else 60.0)
    with running_service() as service:
        job = start_long_job(service)
        with PeakRss(service.api_pid) as rss:
            load = asyncio.run(run_load(service, job["id"], seconds, args.pollers, args.listeners))
        with service.client() as client:
            final = wait_until_finished(client, job["id"], 0.5, END_GRACE_SECONDS)
    steps = (job["progress"]["step"], final["progress"]["step"])
    result = {
        "quick": args.quick,
        "seconds": seconds,
        "pollers": args.pollers,
        **load,
        "job": {
            "final_status": final["status"],
            "steps_before_load": steps[0],
            "steps_after": steps[1],
        },
        "api_rss_peak_growth_mib": round(rss.growth_bytes / 1024**2, 1),
        "goals": {
            "no_errors": {
                "goal": "no failed request or stream",
                "met": load["polling"]["errors"] + load["sse"]["errors"] == 0,
            }
        },
        "how": f"{args.pollers} asyncio tasks in one process, each an httpx.AsyncClient with "
        "one keep-alive connection, GET /v1/jobs/{id} back to back (a closed loop, no pause) "
        f"until the time is up, so latency is mostly queueing (about pollers / requests per "
        f"second); {args.listeners} more hold GET /v1/jobs/{{id}}/events open. Every client is "
        "made before the clock starts. A real job (the digits CNN, 1M steps) trains throughout "
        "and is cancelled at the end; listeners then wait for the terminal event. requests/s "
        "counts answered requests over the load's wall time; latency is per request, client "
        "side; errors are non-200 answers, transport errors and streams that ended early. CPU "
        "seconds per process tree (psutil) and connections Postgres accepted "
        "(pg_stat_database.sessions) over the load. One API process (uvicorn), one worker, "
        "embedded Postgres and Redis, all on 127.0.0.1 with the clients, on a shared 2-CPU "
        "machine.",
    }
    path = write_result("service_load", result)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
