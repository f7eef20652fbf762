"""Many clients at once: every request is answered, none waits out the connection pool."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fastapi.testclient import TestClient

CLIENTS = 150  # well past the 30 pooled connections and the 40 worker threads
REQUESTS_EACH = 3


async def _poll_together(base_url: str, authorization: str, path: str) -> list[int | str]:
    async def one_client() -> list[int | str]:
        headers = {"Authorization": authorization}
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
            statuses: list[int | str] = []
            for _ in range(REQUESTS_EACH):
                try:
                    statuses.append((await client.get(path)).status_code)
                except httpx.HTTPError as exc:
                    statuses.append(type(exc).__name__)
            return statuses

    answers = await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return [status for statuses in answers for status in statuses]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_concurrent_requests_are_all_answered_promptly(live_url: str, client: TestClient) -> None:
    # Before sessions were released as sync routes return, this load deadlocked the pool
    # until its 30 s timeout, and the requests waiting on it failed with 500.
    started = time.monotonic()
    statuses = asyncio.run(_poll_together(live_url, client.headers["Authorization"], "/v1/models"))
    elapsed = time.monotonic() - started
    assert statuses == [200] * (CLIENTS * REQUESTS_EACH)
    assert elapsed < 25
