"""Many watchers of one running job: 200 pollers and 50 SSE listeners, with GET /v1/jobs/{id}
measured against /healthz under the same load, in one run.

The job runs on the real worker with the fake trainer (Settings.fake_trainer_command) printing
progress lines steadily, so the worker saves and publishes progress events throughout at the
rate the worker allows (CANCEL_POLL_SECONDS) without a training run competing for the CPU. The
50 listeners follow the job's events for the whole run. The pollers GET back to back, in
phases of `--seconds`: the job's status (`job`) or /healthz (`healthz`), alternating in turns
(job, healthz; healthz, job; ...) so the machine's noise falls on both. At the end the job is
cancelled, every listener waits for the terminal event, and each listener's event ids are
checked against every event the job published: all the kept history in Postgres, and every
seq the job gave out after the listeners connected (each went to the Redis stream; the stream
is read back to confirm it holds them).

Each `--web-concurrency` value is a run of its own, on fresh servers.

    python -m bench.service_load [--quick] [--seconds N] [--rounds N] [--pollers N]
        [--listeners N] [--web-concurrency N ...]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import ssl
import statistics
import sys
import time
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, cast

import httpx
import psycopg
import redis

from app.core.events import Event, stream_key
from bench.common import write_result
from bench.service_client import LatencyLog, SseParser, submit, timed_get, upload
from bench.service_harness import RunningService, cpu_seconds, running_service
from bench.service_inputs import digits_job_inputs
from bench.service_load_plot import service_load_plot

FAKE_TRAINER = Path(__file__).resolve().parents[1] / "tests" / "worker" / "fake_trainer.py"
TRAINER_LINES_PER_SECOND = 10
# Far longer than the run: the job is cancelled when the load ends.
TRAINER_SECONDS = 3600
PROGRESS_EVENTS_EVERY_SECONDS = 0.2
HPARAMS = {"target_sparsity": 0.75, "pruning_frequency": 10}
TRAINING = {"steps": 1000, "batch_size": 32, "from_logits": True}
PATHS = {"job": "/v1/jobs/{job_id}", "healthz": "/healthz"}
GOAL_RATIO = 0.7
WARMUP_SECONDS = 3.0
START_TIMEOUT_SECONDS = 120
END_GRACE_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 30


def service_settings(web_concurrency: int) -> dict[str, str]:
    trainer = (
        f"{sys.executable} {FAKE_TRAINER} --seconds {TRAINER_SECONDS} "
        f"--steps {TRAINER_SECONDS * TRAINER_LINES_PER_SECOND}"
    )
    return {
        "FAKE_TRAINER_COMMAND": trainer,
        "CANCEL_POLL_SECONDS": str(PROGRESS_EVENTS_EVERY_SECONDS),
        "WEB_CONCURRENCY": str(web_concurrency),
    }


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


class Listener:
    """One SSE client: the seq of every event it received, in order."""

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.saw_end = False
        self.error: str | None = None

    async def listen(self, client: httpx.AsyncClient, job_id: str) -> None:
        parser = SseParser()
        try:
            async with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
                if response.status_code != 200:
                    self.error = f"http_{response.status_code}"
                    return
                async for line in response.aiter_lines():
                    if (message := parser.feed(line)) is None:
                        continue
                    self.seqs.append(int(parser.last_id or -1))
                    kind, data = message
                    if kind == "status" and data.get("status") == "cancelled":
                        self.saw_end = True
                        return
            self.error = "stream_ended_without_terminal_event"
        except httpx.HTTPError as exc:
            self.error = type(exc).__name__


class Phases:
    """Latencies, wall time, CPU seconds and load averages per phase kind, over all rounds."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.logs = {kind: LatencyLog() for kind in PATHS}
        self.seconds = dict.fromkeys(PATHS, 0.0)
        self.cpu: dict[str, Counter[str]] = {kind: Counter() for kind in PATHS}
        self.turns: list[dict[str, Any]] = []

    async def run(
        self, kind: str, clients: list[httpx.AsyncClient], path: str, seconds: float
    ) -> None:
        log, cpu_before = LatencyLog(), cpu_seconds(self.pids)
        started = time.perf_counter()
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(_poll(client, path, deadline, log) for client in clients))
        wall = time.perf_counter() - started
        cpu_after = cpu_seconds(self.pids)
        self.cpu[kind].update({name: cpu_after[name] - cpu_before[name] for name in cpu_before})
        self.logs[kind].extend(log)
        self.seconds[kind] += wall
        self.turns.append(
            {
                "phase": kind,
                "requests_per_second": log.summary(wall)["requests_per_second"],
                "load_average_1m_after": round(os.getloadavg()[0], 2),
            }
        )

    def summary(self) -> dict[str, Any]:
        phases = {}
        for kind in PATHS:
            part = self.logs[kind].summary(self.seconds[kind])
            ok = max(part["ok"], 1)
            part["cpu_seconds"] = {name: round(sec, 1) for name, sec in self.cpu[kind].items()}
            part["api_cpu_ms_per_request"] = round(1000 * self.cpu[kind]["api"] / ok, 2)
            phases[kind] = part
        return phases


async def _poll(client: httpx.AsyncClient, path: str, deadline: float, log: LatencyLog) -> None:
    while time.monotonic() < deadline:
        await timed_get(client, path, log)


async def run_load(
    service: RunningService, job_id: str, args: argparse.Namespace
) -> tuple[dict[str, Any], list[Listener], int]:
    """Every client is made first; the listeners connect, then the pollers poll in turns. The
    job's event seq when the listeners connected is returned with them."""
    tails, phases = [Listener() for _ in range(args.listeners)], Phases(service.pids)
    tls = ssl.create_default_context()
    async with AsyncExitStack() as clients:
        polling = [
            await clients.enter_async_context(_client(service, tls, REQUEST_TIMEOUT_SECONDS))
            for _ in range(args.pollers)
        ]
        streaming = [
            await clients.enter_async_context(_client(service, tls, None))
            for _ in range(args.listeners)
        ]
        seq_at_connect = job_event_seq(service.database_url, job_id)
        listening = [
            asyncio.create_task(tail.listen(client, job_id))
            for tail, client in zip(tails, streaming, strict=True)
        ]
        paths = {kind: path.format(job_id=job_id) for kind, path in PATHS.items()}
        await Phases(service.pids).run("job", polling, paths["job"], WARMUP_SECONDS)
        for turn in range(args.rounds):
            for kind in ("job", "healthz") if turn % 2 == 0 else ("healthz", "job"):
                await phases.run(kind, polling, paths[kind], args.seconds)
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
    load = {
        "phases": phases.summary(),
        "turns": phases.turns,
        "cancel_status_code": cancelled.status_code,
    }
    return load, tails, seq_at_connect


def job_event_seq(database_url: str, job_id: str) -> int:
    """The seq of the job's latest event, kept or not."""
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT event_seq FROM jobs WHERE id = %s", (job_id,)).fetchone()
    return int(row[0]) if row else 0


def kept_event_seqs(database_url: str, job_id: str) -> set[int]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT seq FROM job_events WHERE job_id = %s", (job_id,))
        return {int(row[0]) for row in rows}


def stream_seqs(redis_url: str, job_id: str, after_seq: int) -> set[int]:
    client = redis.Redis.from_url(redis_url)
    try:
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            client.xrange(stream_key(job_id), min=f"0-{after_seq + 1}"),
        )
    finally:
        client.close()
    return {Event.from_stream_entry(entry_id, fields).seq for entry_id, fields in entries}


def listener_check(
    service: RunningService, job_id: str, tails: list[Listener], seq_at_connect: int
) -> dict[str, Any]:
    """Each listener's events against every event the job published for it to see."""
    last_seq = job_event_seq(service.database_url, job_id)
    kept = kept_event_seqs(service.database_url, job_id)
    live = set(range(seq_at_connect + 1, last_seq + 1))
    in_stream = stream_seqs(service.redis_url, job_id, seq_at_connect)
    expected = kept | live
    missing = [expected - set(tail.seqs) for tail in tails]
    missed = [len(seqs) for seqs in missing] or [0]
    received = [len(tail.seqs) for tail in tails] or [0]
    errors = Counter(tail.error for tail in tails if tail.error)
    return {
        "listeners": len(tails),
        "events_published": {
            "seq_when_listeners_connected": seq_at_connect,
            "last_seq": last_seq,
            "kept_in_postgres": len(kept),
            "after_connect": len(live),
            "after_connect_found_in_redis_stream": len(live & in_stream),
            "expected_per_listener": len(expected),
        },
        "events_received_per_listener": {
            "min": min(received),
            "median": statistics.median(received),
            "max": max(received),
        },
        "listeners_missing_an_event": sum(1 for count in missed if count),
        "events_missed_in_all": sum(missed),
        "events_missed_by_one_listener_at_most": max(missed),
        "missed_seqs_first_20": sorted(set().union(*missing))[:20],
        "listeners_with_out_of_order_or_repeated_events": sum(
            1 for tail in tails if any(b <= a for a, b in itertools.pairwise(tail.seqs))
        ),
        "listeners_that_saw_the_terminal_event": sum(tail.saw_end for tail in tails),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
    }


def start_job(service: RunningService) -> str:
    """Submit the job and return its id once the worker has reported progress."""
    model, data = digits_job_inputs(service.root)
    with service.client() as client:
        body = {
            "model_id": upload(client, "models", model)["id"],
            "dataset_id": upload(client, "datasets", data)["id"],
            "hparams": HPARAMS,
            "training": TRAINING,
        }
        job = submit(client, body)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not job["progress"]:
            if time.monotonic() > deadline or job["status"] not in ("queued", "running"):
                raise RuntimeError(f"the job did not start: {job}")
            time.sleep(0.5)
            job = client.get(f"/v1/jobs/{job['id']}").raise_for_status().json()
    return str(job["id"])


def measure(web_concurrency: int, args: argparse.Namespace) -> dict[str, Any]:
    with running_service(service_settings(web_concurrency)) as service:
        job_id = start_job(service)
        load_before = round(os.getloadavg()[0], 2)
        load, tails, seq_at_connect = asyncio.run(run_load(service, job_id, args))
        load_after = round(os.getloadavg()[0], 2)
        deadline = time.monotonic() + END_GRACE_SECONDS
        with service.client() as client:
            while (job := client.get(f"/v1/jobs/{job_id}").json())["status"] == "running":
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        sse = listener_check(service, job_id, tails, seq_at_connect)
    phases = load["phases"]
    job_rate, health_rate = (phases[k]["requests_per_second"] or 0.0 for k in ("job", "healthz"))
    errors = phases["job"]["errors"] + phases["healthz"]["errors"] + sse["errors"]
    ratio = round(job_rate / health_rate, 3) if health_rate else None
    return {
        "web_concurrency": web_concurrency,
        **load,
        "job_over_healthz": {
            "requests_per_second": ratio,
            "p50": _ratio(phases, "p50_ms"),
            "p99": _ratio(phases, "p99_ms"),
            # The throughput ratio if the API's CPU were the only limit is its inverse.
            "api_cpu_per_request": _ratio(phases, "api_cpu_ms_per_request"),
        },
        "sse": sse,
        "job_final_status": job["status"],
        "load_average_1m": {"before": load_before, "after": load_after},
        "goals": {
            "throughput": {
                "goal": f"GET /v1/jobs/{{id}} at least {GOAL_RATIO}× the requests/s of "
                "/healthz under the same load",
                "met": ratio is not None and ratio >= GOAL_RATIO,
            },
            "no_missed_event": {
                "goal": "no listener misses an event",
                "met": sse["events_missed_in_all"] == 0 and sse["listeners"] > 0,
            },
            "no_errors": {"goal": "no failed request or stream", "met": errors == 0},
        },
    }


def _caveats(runs: list[dict[str, Any]], top_load: float) -> list[str]:
    """What else limited the rates: a machine busier than its cores, or a load generator that
    spends as much CPU per /healthz request as the API does."""
    caveats = []
    cpus = os.cpu_count() or 1
    if top_load > cpus:
        caveats.append(
            f"the 1-minute load average reached {top_load:g} on {cpus} cores: other work took "
            "CPU from the service and the clients alike"
        )
    for run in runs:
        health = run["phases"]["healthz"]
        client_ms = 1000 * health["cpu_seconds"]["clients"] / max(health["ok"], 1)
        if client_ms >= health["api_cpu_ms_per_request"]:
            caveats.append(
                f"with WEB_CONCURRENCY={run['web_concurrency']} the clients spent "
                f"{client_ms:.1f} ms of CPU per /healthz request, the API "
                f"{health['api_cpu_ms_per_request']:g}: the /healthz rate is partly the load "
                "generator's limit, which flatters the ratio"
            )
    return caveats


def _ratio(phases: dict[str, Any], key: str) -> float | None:
    job, health = phases["job"][key], phases["healthz"][key]
    return round(job / health, 2) if job and health else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="phases of 5 s, not 15 s")
    parser.add_argument("--seconds", type=float, default=None, help="per phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--listeners", type=int, default=50)
    parser.add_argument("--web-concurrency", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (5.0 if args.quick else 15.0)
    runs = [measure(processes, args) for processes in args.web_concurrency]
    loads = [run["load_average_1m"][when] for run in runs for when in ("before", "after")]
    loads += [turn["load_average_1m_after"] for run in runs for turn in run["turns"]]
    result = {
        "quick": args.quick,
        "seconds_per_phase": args.seconds,
        "rounds": args.rounds,
        "pollers": args.pollers,
        "listeners": args.listeners,
        "progress_events_every_seconds": PROGRESS_EVENTS_EVERY_SECONDS,
        "runs": runs,
        "caveats": _caveats(runs, max(loads)),
        "goals": {
            f"{name}_web_concurrency_{run['web_concurrency']}": goal
            for run in runs
            for name, goal in run["goals"].items()
        },
        "how": f"{args.pollers} asyncio tasks in one process, each an httpx.AsyncClient with "
        "one keep-alive connection, GET back to back (a closed loop, so latency is mostly "
        "queueing), in phases of "
        f"{args.seconds:g} s: GET /v1/jobs/{{id}} of the running job, or /healthz; {args.rounds} "
        "rounds of both, in alternating order (job first, then healthz first), after a "
        f"{WARMUP_SECONDS:g} s warm-up. {args.listeners} more clients hold GET "
        "/v1/jobs/{id}/events open for the whole run. requests/s counts answered requests over "
        "each phase kind's wall time; latency is per request, client side. The job runs on the "
        "real worker with the fake trainer (tests/worker/fake_trainer.py, "
        f"{TRAINER_LINES_PER_SECOND} progress lines/s); the worker publishes progress every "
        f"{PROGRESS_EVENTS_EVERY_SECONDS:g} s (CANCEL_POLL_SECONDS) and keeps one a second in "
        "Postgres. A listener misses an event when its ids lack a seq that Postgres keeps or "
        "that the job gave out after the listeners connected. CPU seconds per process tree "
        "(psutil). WEB_CONCURRENCY API processes (uvicorn workers), one Celery worker, embedded "
        "Postgres and Redis, all on 127.0.0.1 with the clients, on a shared machine.",
    }
    path = write_result("service_load", result)
    print(f"wrote {path} and {service_load_plot(result, path.with_suffix('.png'))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
