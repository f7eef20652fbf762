"""sweeps (one job per target sparsity) and job kinds ("prune" | "sensitivity")

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.String(length=40),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column(
            "model_id", sa.String(length=40), sa.ForeignKey("models.id", ondelete="SET NULL")
        ),
        sa.Column(
            "dataset_id", sa.String(length=40), sa.ForeignKey("datasets.id", ondelete="SET NULL")
        ),
        sa.Column("sparsities", JSON, nullable=False),
        sa.Column("max_accuracy_drop", sa.Float(), nullable=False),
        sa.Column("exports", JSON, nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sweeps_tenant_id", "sweeps", ["tenant_id"])
    op.add_column(
        "jobs",
        sa.Column("kind", sa.String(length=20), nullable=False, server_default="prune"),
    )
    op.add_column("jobs", sa.Column("sweep_id", sa.String(length=40), nullable=True))
    op.create_foreign_key(
        "jobs_sweep_id_fkey", "jobs", "sweeps", ["sweep_id"], ["id"], ondelete="SET NULL"
    )
    op.create_index("ix_jobs_sweep_id", "jobs", ["sweep_id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_sweep_id", table_name="jobs")
    op.drop_constraint("jobs_sweep_id_fkey", "jobs", type_="foreignkey")
    op.drop_column("jobs", "sweep_id")
    op.drop_column("jobs", "kind")
    op.drop_index("ix_sweeps_tenant_id", table_name="sweeps")
    op.drop_table("sweeps")
