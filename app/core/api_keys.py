"""API keys: random strings shown once, stored as their sha256. Made by the operator's commands
and `make run`, checked by the API on every /v1 request."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db.models import ApiKey, Tenant, utcnow

KEY_PREFIX = "shr_"


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(session: Session, tenant_name: str) -> str:
    """A new key for the tenant (created if it does not exist yet); only its hash is stored."""
    tenant = session.scalar(select(Tenant).where(Tenant.name == tenant_name))
    if tenant is None:
        tenant = Tenant(name=tenant_name)
        session.add(tenant)
        session.flush()
    key = generate_api_key()
    prefix = key[: len(KEY_PREFIX) + 6]
    session.add(ApiKey(tenant_id=tenant.id, key_hash=hash_api_key(key), prefix=prefix))
    session.flush()
    return key


def tenant_for_key(session: Session, key: str) -> Tenant | None:
    """The tenant of an unrevoked key, in one indexed query (key_hash is unique)."""
    return session.scalar(
        select(Tenant)
        .join(ApiKey, ApiKey.tenant_id == Tenant.id)
        .where(ApiKey.key_hash == hash_api_key(key), ApiKey.revoked_at.is_(None))
    )


def list_api_keys(session: Session, tenant_name: str | None = None) -> list[ApiKey]:
    """Every key (or one tenant's), oldest first; the key itself is never stored, only its
    prefix."""
    query = select(ApiKey).join(Tenant).order_by(ApiKey.created_at)
    if tenant_name is not None:
        query = query.where(Tenant.name == tenant_name)
    return list(session.scalars(query))


def revoke_api_key(session: Session, key_id: str) -> ApiKey | None:
    """Revoke the key with this id (or prefix, as `list-api-keys` shows it); None if no key
    matches. The API refuses it from the next request on."""
    row = session.get(ApiKey, key_id) or session.scalar(
        select(ApiKey).where(ApiKey.prefix == key_id)
    )
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row
