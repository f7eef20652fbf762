"""A pooled connection is checked before use only if it sat idle a while.

`pool_pre_ping` costs a round trip on every checkout, two per API request; a connection handed
back a moment ago is almost surely alive, and one that is not fails its request like a server
restart mid-request would.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event, exc
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

# Longer than a burst of requests, shorter than Postgres' or a proxy's idle timeouts.
IDLE_CHECK_SECONDS = 10.0
CHECKED_IN_AT = "shears_checked_in_at"


def check_idle_connections(engine: Engine) -> None:
    """Ping a connection at checkout when it was idle for IDLE_CHECK_SECONDS or longer; a dead
    one is replaced by a new connection (the pool retries a checkout on DisconnectionError)."""

    @event.listens_for(engine, "checkin")
    def remember_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(
        dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        checked_in = record.info.get(CHECKED_IN_AT)
        if checked_in is None or time.monotonic() - checked_in < IDLE_CHECK_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()  # the ping opened a transaction unless autocommit
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(str(error)) from error
