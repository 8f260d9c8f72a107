"""object_removals: store objects owed a removal by deletions that committed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "object_removals",
        sa.Column("removal_id", sa.String(length=21), nullable=False),
        sa.Column("target", sa.String(length=1024), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("removal_id", name=op.f("pk_object_removals")),
    )
    with op.batch_alter_table("object_removals") as batch:
        batch.create_index("ix_object_removals_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("object_removals") as batch:
        batch.drop_index("ix_object_removals_created_at")
    op.drop_table("object_removals")
