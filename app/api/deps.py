"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Query
from fastapi.routing import APIRoute
from pydantic import WithJsonSchema
from sqlalchemy.orm import Session

from app.core.db.session import get_db, get_read_db
from app.core.settings import Settings, get_settings

# Closed when the route returns, not after the response: a stream (SSE, a download) must not hold
# a pooled connection for its whole life.
DbSession = Annotated[Session, Depends(get_db, scope="function")]
# For requests that only read: autocommit, no BEGIN/COMMIT round trips.
ReadDbSession = Annotated[Session, Depends(get_read_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
# An absent header is None; a present one is a string, never "null" (as string-or-null says).
IfNoneMatch = Annotated[
    str | None,
    Header(description="A file's ETag: 304 if it still matches."),
    WithJsonSchema({"type": "string"}),
]


class SessionReleasingRoute(APIRoute):
    """Closes the request's DB session as a sync route returns, in the route's own worker thread.

    FastAPI validates a sync route's response in another thread-pool hop, and only then closes
    the session: under load (200 concurrent requests) every worker thread ends up waiting for a
    pooled connection while every connection is held by a request waiting for a thread, until
    the pool times out (fastapi/fastapi#12066).
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _closing_sessions(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _closing_sessions(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the parameters through __wrapped__
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        finally:
            for value in kwargs.values():
                if isinstance(value, Session):
                    value.close()

    return run


# Postgres takes OFFSET as a bigint: a larger one would be a database error, not a 422.
MAX_OFFSET = 2**63 - 1


@dataclass
class Pagination:
    limit: int = Query(50, ge=1, le=500, description="At most this many items.")
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Skip this many items.")


PageParams = Annotated[Pagination, Depends()]
