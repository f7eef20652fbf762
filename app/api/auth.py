"""The tenant of every /v1 request, from its `Authorization: Bearer` API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.deps import ReadDbSession
from app.api.errors import ApiError
from app.core.api_keys import tenant_for_key
from app.core.db.models import Tenant

bearer_scheme = HTTPBearer(
    auto_error=False, description="An API key: `Authorization: Bearer shr_...`"
)


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def invalid_key() -> ApiError:
    return unauthorized(
        "the API key is not valid; create one with `python -m app.admin create-api-key`"
    )


async def get_api_key(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The key as sent, not yet checked (read_owned_by_key checks it in its own query)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("send your API key as `Authorization: Bearer <key>`")
    return credentials.credentials


SentApiKey = Annotated[str, Depends(get_api_key)]


def get_current_tenant(key: SentApiKey, db: ReadDbSession) -> Tenant:
    tenant = tenant_for_key(db, key)
    # Hand the connection back now (no round trip: autocommit): this dependency and a sync route
    # run in separate thread-pool hops, and requests holding pooled connections while they wait
    # for a thread starve the threads that wait for a connection (QueuePool timeouts at 200
    # concurrent requests).
    db.close()
    if tenant is None:
        raise invalid_key()
    return tenant


CurrentTenant = Annotated[Tenant, Depends(get_current_tenant)]
