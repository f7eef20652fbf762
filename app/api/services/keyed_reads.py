"""The reads users poll (a job's status, the job and model lists), each answered by one
precompiled query that checks the API key too: one round trip and one thread-pool hop a request,
where a key lookup of its own would cost another of each. A revoked key is refused at once, as
everywhere else, since nothing about keys is cached."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.orm import Session

from app.api.auth import invalid_key
from app.api.errors import ApiError
from app.api.services.ownership import KINDS, Owned
from app.api.storable_text import is_storable
from app.core.api_keys import hash_api_key
from app.core.db.models import ApiKey


def read_owned_by_key(session: Session, table: type[Owned], key: str, resource_id: str) -> Row[Any]:
    """The row, if the key's tenant owns it, as a plain row (for responses only): 401 for a key
    that is not valid, 404 for a row that is missing or another tenant's."""
    params = {"key_hash": hash_api_key(key), "resource_id": resource_id}
    if not is_storable(resource_id):  # Postgres would refuse the id; the key is still checked
        params["resource_id"] = ""
    row = session.connection().exec_driver_sql(_row_sql(table), params).first()
    if row is None:
        raise invalid_key()
    if row.id is None:
        raise ApiError.not_found(KINDS[table], resource_id)
    return row


def read_page_by_key(
    session: Session,
    table: type[Owned],
    key: str,
    limit: int,
    offset: int,
    equal: Mapping[str, Any] | None = None,
) -> tuple[list[Row[Any]], int]:
    """One page of the key's tenant's rows (those whose columns have the `equal` values), newest
    first, and how many match in all; 401 for a key that is not valid."""
    equal = dict(equal or {})
    params = {"key_hash": hash_api_key(key), "page_limit": limit, "page_offset": offset}
    params |= {f"equal_{name}": value for name, value in equal.items()}
    rows = session.connection().exec_driver_sql(_page_sql(table, tuple(equal)), params).all()
    if not rows:
        raise invalid_key()
    return [row for row in rows if row.id is not None], rows[0].total_count


def _compiled(query: Any) -> str:
    return str(query.compile(dialect=psycopg.dialect()))


@functools.cache
def _row_sql(table: type[Owned]) -> str:
    columns = table.__table__.c
    owned = and_(columns.id == bindparam("resource_id"), columns.tenant_id == ApiKey.tenant_id)
    query = (
        select(ApiKey.id.label("api_key_id"), *columns)
        .select_from(ApiKey.__table__.outerjoin(table.__table__, owned))
        .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
    )
    return _compiled(query)


@functools.cache
def _page_sql(table: type[Owned], equal: tuple[str, ...]) -> str:
    """The key's row, the count of its matching rows and the page of them: a key that is not
    valid gives no row at all, and an empty page one row whose columns are NULL."""
    rows = table.__table__
    api_key = (
        select(ApiKey.id, ApiKey.tenant_id)
        .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
        .cte("api_key")
    )
    matching = [
        rows.c.tenant_id == api_key.c.tenant_id,
        *(rows.c[name] == bindparam(f"equal_{name}") for name in equal),
    ]
    total = select(func.count().label("total_count")).where(*matching).lateral("total")
    page = (
        select(*rows.c)
        .where(*matching)
        .order_by(rows.c.created_at.desc(), rows.c.id)
        .limit(bindparam("page_limit"))
        .offset(bindparam("page_offset"))
        .lateral("page")
    )
    query = (
        select(api_key.c.id.label("api_key_id"), total.c.total_count, *page.c)
        .select_from(api_key.join(total, true()).outerjoin(page, true()))
        .order_by(page.c.created_at.desc(), page.c.id)
    )
    return _compiled(query)
