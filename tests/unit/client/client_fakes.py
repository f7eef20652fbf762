"""A ShearsClient over httpx.MockTransport (the client's own logic, no server) and SSE bodies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx

from shears_client.api_client import ShearsClient
from shears_client.commands.common import CliState
from shears_client.config import ClientConfig

Handler = Callable[[httpx.Request], httpx.Response]

CONFIG = ClientConfig(url="http://shears.test", api_key="shr_test", timeout=5.0)


def make_client(handler: Handler) -> ShearsClient:
    client = ShearsClient(CONFIG, transport=httpx.MockTransport(handler))
    client.stream_retry_seconds = 0.0
    return client


def cli_state(handler: Handler) -> CliState:
    return CliState(client_factory=lambda _state: make_client(handler))


def error_response(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": code, "message": message, "details": None}}
    )


def sse_message(seq: int, event: str, data: dict) -> bytes:
    return f"id: {seq}\nevent: {event}\ndata: {json.dumps(data)}\n\n".encode()


def sse_response(chunks: list[bytes], then_raise: Exception | None = None) -> httpx.Response:
    def body() -> Iterator[bytes]:
        yield from chunks
        if then_raise is not None:
            raise then_raise

    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())
