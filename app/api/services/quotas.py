"""Per-tenant limits (settings): stored bytes and concurrent jobs; past them, 429."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.core.db.models import ACTIVE_STATUSES, Blob, Job, Tenant
from app.core.settings import Settings


def stored_bytes(session: Session, tenant_id: str) -> int:
    total = session.scalar(select(func.sum(Blob.size_bytes)).where(Blob.tenant_id == tenant_id))
    return int(total or 0)


def check_storage_quota(
    session: Session, tenant_id: str, incoming: int, settings: Settings
) -> None:
    limit = settings.tenant_max_stored_bytes
    used = stored_bytes(session, tenant_id)
    if used + incoming > limit:
        raise ApiError(
            429,
            "storage_quota_exceeded",
            f"storing {incoming} more bytes would exceed your limit of {limit} stored bytes "
            f"({used} in use); delete models, datasets or jobs you no longer need",
            {"limit": limit, "used": used, "incoming": incoming},
        )


def precheck_storage_quota(session: Session, tenant_id: str, settings: Settings) -> None:
    """Before an upload's body arrives: a tenant already at its limit is refused at once. The
    connection then goes back to the pool, not held while a slow client sends the body."""
    try:
        check_storage_quota(session, tenant_id, 0, settings)
    finally:
        session.close()


def lock_tenant_storage(session: Session, tenant_id: str) -> None:
    """Serialize a tenant's stores until the transaction ends, so two uploads at once cannot
    both pass the storage limit. An advisory lock, not the tenant row: a long upload being
    written must not hold up the tenant's job submissions."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('shears-storage:' || :tenant))"),
        {"tenant": tenant_id},
    )


def lock_tenant(session: Session, tenant_id: str) -> None:
    """Serialize a tenant's job submissions, so two at once cannot both pass the limit."""
    session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())


def check_job_quota(
    session: Session, tenant_id: str, settings: Settings, incoming: int = 1
) -> None:
    """`incoming` more jobs (a sweep's, all of them) must fit under the limit."""
    limit = settings.tenant_max_concurrent_jobs
    active = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.tenant_id == tenant_id, Job.status.in_(ACTIVE_STATUSES))
    )
    if (active or 0) + incoming > limit:
        raise ApiError(
            429,
            "job_quota_exceeded",
            f"you have {active} queued or running jobs and ask for {incoming} more, the limit "
            f"of concurrent jobs is {limit}; wait for some to finish or cancel some",
            {"limit": limit, "active": active, "incoming": incoming},
        )
