"""Redis clients for the API: a shared synchronous one, and asyncio ones for SSE streams."""

from __future__ import annotations

from functools import lru_cache

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from app.core.settings import get_settings

# Short timeouts: a Redis that does not answer becomes a 503 or a Postgres fallback quickly.
CONNECT_TIMEOUT_SECONDS = 2.0
SOCKET_TIMEOUT_SECONDS = 5.0
# One quick retry covers a dropped connection; more would only delay the 503.
RETRIES = 1


def redis_url() -> str:
    url = get_settings().redis_url
    if not url:
        raise RuntimeError("REDIS_URL is not set; start Shears with `make run`, which sets it")
    return url


@lru_cache
def client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.1), RETRIES),
    )


def get_redis() -> redis.Redis:
    return client_for(redis_url())


def new_async_redis() -> redis.asyncio.Redis:
    """A client for one SSE stream (closed by the caller): asyncio clients belong to one loop."""
    return redis.asyncio.Redis.from_url(
        redis_url(),
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        retry=AsyncRetry(ExponentialBackoff(cap=0.5, base=0.1), RETRIES),
    )
