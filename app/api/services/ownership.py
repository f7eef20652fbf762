"""Rows a tenant owns: another tenant's row is 404, exactly like a missing one."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
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
    query = _owned(select(table), table, tenant_id, resource_id)
    if lock or shared_lock:
        query = query.with_for_update(read=shared_lock)
    return _found(session.scalar(query), table, resource_id)


def list_owned(
    session: Session,
    table: type[Owned],
    tenant_id: str,
    limit: int,
    offset: int,
    *filters: ColumnElement[bool],
) -> tuple[list[Owned], int]:
    """One page, newest first, and how many rows match in all."""
    query, count = _page(select(table), session, table, tenant_id, limit, offset, *filters)
    return list(session.scalars(query)), count


Found = TypeVar("Found")


def _owned(query: Select[Any], table: type[Owned], tenant_id: str, resource_id: str) -> Select[Any]:
    if not is_storable(resource_id):  # no id has one, and Postgres would refuse the query
        raise ApiError.not_found(KINDS[table], resource_id)
    return query.where(table.id == resource_id, table.tenant_id == tenant_id)


def _found(row: Found | None, table: type[Owned], resource_id: str) -> Found:
    if row is None:
        raise ApiError.not_found(KINDS[table], resource_id)
    return row


def _page(
    query: Select[Any],
    session: Session,
    table: type[Owned],
    tenant_id: str,
    limit: int,
    offset: int,
    *filters: ColumnElement[bool],
) -> tuple[Select[Any], int]:
    where = [table.tenant_id == tenant_id, *filters]
    count = session.scalar(select(func.count()).select_from(table).where(*where)) or 0
    page = query.where(*where).order_by(table.created_at.desc(), table.id)
    return page.limit(limit).offset(offset), count
