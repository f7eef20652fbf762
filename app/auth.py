"""API keys: random strings shown once, stored as their sha256, checked on every /v1 request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import ApiKey, Tenant
from app.deps import DbSession
from app.errors import ApiError

KEY_PREFIX = "shr_"

bearer_scheme = HTTPBearer(
    auto_error=False, description="An API key: `Authorization: Bearer shr_...`"
)


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def tenant_for_key(session: Session, key: str) -> Tenant | None:
    key_hash = hash_api_key(key)
    row = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )
    if row is None or not hmac.compare_digest(row.key_hash, key_hash):
        return None
    return row.tenant


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def get_current_tenant(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    db: DbSession,
) -> Tenant:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("send your API key as `Authorization: Bearer <key>`")
    tenant = tenant_for_key(db, credentials.credentials)
    # Hand the connection back now: this dependency and a sync route run in separate thread-pool
    # hops, and requests holding pooled connections while they wait for a thread starve the
    # threads that wait for a connection (QueuePool timeouts at 200 concurrent requests).
    db.commit()
    if tenant is None:
        raise unauthorized(
            "the API key is not valid; create one with `python -m app.cli create-api-key`"
        )
    return tenant


CurrentTenant = Annotated[Tenant, Depends(get_current_tenant)]
