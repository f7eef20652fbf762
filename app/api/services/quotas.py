"""Per-tenant limits (settings): stored bytes and concurrent jobs; past them, 429."""

from __future__ import annotations

from sqlalchemy import func, select
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
