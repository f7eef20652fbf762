"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy.orm import Session

from app.db.session import get_db
from app.settings import Settings, get_settings

# Closed when the route returns, not after the response: a stream (SSE, a download) must not hold
# a pooled connection for its whole life.
DbSession = Annotated[Session, Depends(get_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


@dataclass
class Pagination:
    limit: int = Query(50, ge=1, le=500, description="At most this many items.")
    offset: int = Query(0, ge=0, description="Skip this many items.")


PageParams = Annotated[Pagination, Depends()]
