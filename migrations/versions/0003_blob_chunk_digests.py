"""each blob chunk keeps its own sha256, so a download is checked chunk by chunk before it is sent

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("blob_chunks", sa.Column("sha256", sa.String(length=64), nullable=True))
    # Existing chunks: their digest as stored now (the whole blob's sha256 still vouches for them).
    op.execute("UPDATE blob_chunks SET sha256 = encode(sha256(data), 'hex')")
    op.alter_column("blob_chunks", "sha256", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    op.drop_column("blob_chunks", "sha256")
