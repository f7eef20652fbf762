"""a job outlives its model and dataset: deleting either keeps the finished job and its artifacts

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INPUTS = (("model_id", "models"), ("dataset_id", "datasets"))


def upgrade() -> None:
    for column, table in INPUTS:
        op.alter_column("jobs", column, existing_type=sa.String(length=40), nullable=True)
        op.drop_constraint(f"jobs_{column}_fkey", "jobs", type_="foreignkey")
        op.create_foreign_key(
            f"jobs_{column}_fkey", "jobs", table, [column], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    for column, table in INPUTS:
        op.drop_constraint(f"jobs_{column}_fkey", "jobs", type_="foreignkey")
        op.create_foreign_key(f"jobs_{column}_fkey", "jobs", table, [column], ["id"])
        op.alter_column("jobs", column, existing_type=sa.String(length=40), nullable=False)
