"""a backlog of thousands: the "enqueued at" mark the sweeper reads, and indexes for the lists

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True))
    # GET /v1/jobs and GET /v1/jobs?status=: one page, newest first, and the count.
    op.create_index(
        "ix_jobs_tenant_created", "jobs", ["tenant_id", sa.text("created_at DESC"), "id"]
    )
    op.create_index(
        "ix_jobs_tenant_status_created",
        "jobs",
        ["tenant_id", "status", sa.text("created_at DESC"), "id"],
    )
    # The sweeper's candidates: queued jobs with no message sent since their last claim. Small
    # however long the backlog is.
    op.create_index(
        "ix_jobs_queued_unsent",
        "jobs",
        ["updated_at"],
        postgresql_where=sa.text("status = 'queued' AND enqueued_at IS NULL"),
    )
    op.create_index(
        "ix_jobs_running_heartbeat",
        "jobs",
        [sa.text("coalesce(heartbeat_at, updated_at)")],
        postgresql_where=sa.text("status = 'running'"),
    )


def downgrade() -> None:
    for name in (
        "ix_jobs_running_heartbeat",
        "ix_jobs_queued_unsent",
        "ix_jobs_tenant_status_created",
        "ix_jobs_tenant_created",
    ):
        op.drop_index(name, table_name="jobs")
    op.drop_column("jobs", "enqueued_at")
