"""Talking to the running service the way a user's script does (uploads, jobs, downloads), and
the latency bookkeeping the service benchmarks share."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")


def upload(client: httpx.Client, kind: str, path: Path) -> dict[str, Any]:
    """POST /v1/models or /v1/datasets, streaming the file; the created resource."""
    with path.open("rb") as file:
        response = client.post(f"/v1/{kind}", files={"file": (path.name, file)})
    if response.status_code != 201:
        raise RuntimeError(f"uploading {path.name}: {response.status_code} {response.text}")
    return dict(response.json())


def submit(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/jobs", json=body)
    if response.status_code != 202:
        raise RuntimeError(f"submitting a job: {response.status_code} {response.text}")
    return dict(response.json())


def wait_until_finished(
    client: httpx.Client, job_id: str, poll_seconds: float, timeout: float
) -> dict[str, Any]:
    """Polls GET /v1/jobs/{id} until the job is succeeded, failed or cancelled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = dict(client.get(f"/v1/jobs/{job_id}").raise_for_status().json())
        if job["status"] in TERMINAL_STATUSES:
            return job
        time.sleep(poll_seconds)
    raise RuntimeError(f"job {job_id} did not finish within {timeout:.0f}s")


def download(client: httpx.Client, url: str, dest: Path) -> int:
    """Streams a GET to `dest`; the bytes received (checked against Content-Length)."""
    with client.stream("GET", url) as response, dest.open("wb") as out:
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code} {response.read()!r}")
        for chunk in response.iter_bytes():
            out.write(chunk)
        expected = int(response.headers["content-length"])
    received = dest.stat().st_size
    if received != expected:
        raise RuntimeError(f"GET {url}: {received} bytes received, {expected} promised")
    return received


class SseParser:
    """Server-Sent Events, one line at a time: `feed` returns (type, data) when a message ends."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.last_id: str | None = None  # the `id` of the last message returned

    def feed(self, line: str) -> tuple[str, dict[str, Any]] | None:
        if line.startswith(":"):  # a keep-alive comment
            return None
        if line:
            name, _, value = line.partition(":")
            self.fields[name] = value.removeprefix(" ")
            return None
        fields, self.fields = self.fields, {}
        if "data" not in fields:
            return None
        self.last_id = fields.get("id")
        return fields.get("event", "message"), json.loads(fields["data"])


def job_events(client: httpx.Client, job_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every event of a finished job, replayed by GET /v1/jobs/{id}/events."""
    parser, received = SseParser(), []
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if (message := parser.feed(line)) is not None:
                received.append(message)
    return received


async def timed_get(client: httpx.AsyncClient, path: str, log: LatencyLog) -> None:
    """One GET, logged: its latency if it answered 200, else the kind of failure."""
    started = time.perf_counter()
    try:
        response = await client.get(path)
    except httpx.HTTPError as exc:
        log.error(type(exc).__name__)
        return
    if response.status_code == 200:
        log.ok(time.perf_counter() - started)
    else:
        log.error(f"http_{response.status_code}")


@dataclass
class LatencyLog:
    """Latencies of the requests that succeeded, and the count and kinds of those that did not."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def ok(self, seconds: float) -> None:
        self.latencies.append(seconds)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def extend(self, other: LatencyLog) -> None:
        self.latencies.extend(other.latencies)
        for kind, count in other.errors.items():
            self.errors[kind] = self.errors.get(kind, 0) + count

    def summary(self, wall_seconds: float) -> dict[str, Any]:
        """Requests/s over `wall_seconds` (successful requests only), p50/p95/p99 in ms (None
        with fewer than two), errors."""
        ok = len(self.latencies)
        cuts = statistics.quantiles(self.latencies, n=100) if ok >= 2 else None
        return {
            "requests": ok + sum(self.errors.values()),
            "ok": ok,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "seconds": round(wall_seconds, 3),
            "requests_per_second": round(ok / wall_seconds, 1) if wall_seconds > 0 else None,
            "p50_ms": round(cuts[49] * 1000, 2) if cuts else None,
            "p95_ms": round(cuts[94] * 1000, 2) if cuts else None,
            "p99_ms": round(cuts[98] * 1000, 2) if cuts else None,
        }
