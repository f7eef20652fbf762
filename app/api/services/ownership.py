"""Rows a tenant owns: another tenant's row is 404, exactly like a missing one."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.api.storable_text import is_storable
from app.core.db.models import Dataset, Job, Model, Sweep

Owned = TypeVar("Owned", Model, Dataset, Job, Sweep)

KINDS: dict[type[Any], str] = {Model: "model", Dataset: "dataset", Job: "job", Sweep: "sweep"}


def get_owned(
    session: Session,
    table: type[Owned],
    tenant_id: str,
    resource_id: str,
    *,
    lock: bool = False,
    shared_lock: bool = False,
) -> Owned:
    """The row, optionally locked (FOR UPDATE, or FOR SHARE), or a 404 naming what is missing."""
    if not is_storable(resource_id):  # no id has one, and Postgres would refuse the query
        raise ApiError.not_found(KINDS[table], resource_id)
    query = select(table).where(table.id == resource_id, table.tenant_id == tenant_id)
    if lock or shared_lock:
        query = query.with_for_update(read=shared_lock)
    row = session.scalar(query)
    if row is None:
        raise ApiError.not_found(KINDS[table], resource_id)
    return row


def list_owned(
    session: Session,
    table: type[Owned],
    tenant_id: str,
    limit: int,
    offset: int,
    *filters: ColumnElement[bool],
) -> tuple[list[Owned], int]:
    """One page, newest first, and how many rows match in all."""
    where = [table.tenant_id == tenant_id, *filters]
    count = session.scalar(select(func.count()).select_from(table).where(*where)) or 0
    rows = session.scalars(
        select(table)
        .where(*where)
        .order_by(table.created_at.desc(), table.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), count
