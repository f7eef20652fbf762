"""Hooks into the Celery worker's life: the sweeper thread, and a clean database pool per fork."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init, worker_ready, worker_shutdown

from app.core.db.session import get_engine
from app.core.events import Event, publish
from app.core.queue import send_job
from app.core.settings import get_settings
from worker.job_writer import worker_redis
from worker.sweeper import SweeperThread, sweep, sweep_interval

_sweeper: SweeperThread | None = None


@worker_process_init.connect
def _fresh_connections_in_pool_process(**_: Any) -> None:
    # A forked pool process must not share the parent's database sockets.
    if get_engine.cache_info().currsize:
        get_engine().dispose(close=False)


@worker_ready.connect
def _start_sweeper(**_: Any) -> None:
    global _sweeper
    settings = get_settings()
    client = worker_redis(settings.redis_url or "")

    def publish_events(job_id: str, events: list[Event]) -> None:
        publish(client, job_id, events, settings.stream_maxlen, settings.stream_ttl_seconds)

    _sweeper = SweeperThread(
        sweep_interval(settings), lambda: sweep(settings, client, send_job, publish_events)
    )
    _sweeper.start()


@worker_shutdown.connect
def _stop_sweeper(**_: Any) -> None:
    if _sweeper is not None:
        _sweeper.stopped.set()
