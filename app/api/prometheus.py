"""Prometheus metrics: HTTP requests and latency from a middleware, and jobs by status and queue
depth read at scrape time. Each app gets its own registry, so apps built in tests never clash."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import redis
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.redis_client import get_redis
from app.core.db.models import JOB_STATUSES, Job
from app.core.db.session import get_sessionmaker
from app.core.queue import GPU_QUEUE

log = logging.getLogger(__name__)


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "shears_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "shears_http_request_duration_seconds",
            "Time until the response was complete (for SSE: the stream's life).",
            ["method", "route"],
            registry=registry,
        )


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            # The route template, not the raw path: ids would make one series per resource.
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(
                time.perf_counter() - started
            )


class JobsCollector(Collector):
    """Read at scrape time; a dependency that is down leaves its metric out, not the scrape."""

    def collect(self) -> Iterator[Metric]:
        try:
            with get_sessionmaker()() as session:
                rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
                counts = {status: count for status, count in rows}
        except SQLAlchemyError as exc:
            log.warning("jobs gauge skipped: %s", exc)
        else:
            jobs = GaugeMetricFamily("shears_jobs", "Jobs by status.", labels=["status"])
            for status in JOB_STATUSES:
                jobs.add_metric([status], counts.get(status, 0))
            yield jobs
        try:
            depth = get_redis().llen(GPU_QUEUE)
        except redis.RedisError as exc:
            log.warning("queue depth gauge skipped: %s", exc)
        else:
            queue = GaugeMetricFamily(
                "shears_queue_depth", "Tasks waiting in the Celery queue.", labels=["queue"]
            )
            queue.add_metric([GPU_QUEUE], depth)
            yield queue


def new_registry() -> tuple[CollectorRegistry, HttpMetrics]:
    registry = CollectorRegistry()
    registry.register(JobsCollector())
    return registry, HttpMetrics(registry)
