"""Rows a tenant owns: another tenant's row is 404, exactly like a missing one."""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, func, select
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.orm import Session

from app.api.auth import invalid_key
from app.api.errors import ApiError
from app.api.storable_text import is_storable
from app.core.api_keys import hash_api_key
from app.core.db.models import ApiKey, Dataset, Job, Model, Sweep

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


def read_owned_by_key(session: Session, table: type[Owned], key: str, resource_id: str) -> Row[Any]:
    """The row of the API key's tenant as a plain row, without the ORM's bookkeeping (for
    responses only), the key checked in the same query (polling a job is the API's hot path):
    401 for a key that is not valid, 404 for a row not its own."""
    params = {"key_hash": hash_api_key(key), "resource_id": resource_id}
    if not is_storable(resource_id):  # Postgres would refuse the id; the key is still checked
        params["resource_id"] = ""
    row = session.connection().exec_driver_sql(_owned_by_key_sql(table), params).first()
    if row is None:
        raise invalid_key()
    return _found(row if row.id is not None else None, table, resource_id)


@functools.cache
def _owned_by_key_sql(table: type[Owned]) -> str:
    """Compiled once: building and caching the statement on each call costs more than the query."""
    columns = table.__table__.c
    owned = and_(columns.id == bindparam("resource_id"), columns.tenant_id == ApiKey.tenant_id)
    query = (
        select(ApiKey.id.label("api_key_id"), *columns)
        .select_from(ApiKey.__table__.outerjoin(table.__table__, owned))
        .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
    )
    return str(query.compile(dialect=psycopg.dialect()))


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


def read_owned_page(
    session: Session,
    table: type[Owned],
    tenant_id: str,
    limit: int,
    offset: int,
    *filters: ColumnElement[bool],
) -> tuple[list[Row[Any]], int]:
    """list_owned as plain rows (for responses only)."""
    columns = select(*table.__table__.columns)
    query, count = _page(columns, session, table, tenant_id, limit, offset, *filters)
    return list(session.execute(query)), count


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
