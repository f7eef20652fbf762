"""Talking to the running service the way a script would: plain HTTP and SSE."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


@dataclass(frozen=True)
class SseEvent:
    id: int
    type: str
    data: dict[str, Any]


def upload(client: httpx.Client, kind: str, path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        response = client.post(f"/v1/{kind}", files={"file": (path.name, file)})
    assert response.status_code == 201, response.text
    return response.json()


def submit(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def events(
    client: httpx.Client, job_id: str, last_event_id: int | None = None
) -> Iterator[SseEvent]:
    """The job's events until the server ends the stream (after the terminal status)."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if line.startswith(":"):
                continue
            if line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
                continue
            if "data" in fields:
                yield SseEvent(int(fields["id"]), fields["event"], json.loads(fields["data"]))
            fields = {}


def download(client: httpx.Client, url: str, dest: Path) -> Path:
    with client.stream("GET", url) as response:
        assert response.status_code == 200, response.read()
        with dest.open("wb") as out:
            for chunk in response.iter_bytes():
                out.write(chunk)
        assert dest.stat().st_size == int(response.headers["content-length"])
    return dest
