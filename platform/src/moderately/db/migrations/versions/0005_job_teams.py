"""jobs carry their team (a per-team cap on running jobs); job_results answer waiting requests

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("team_id", sa.String(length=21), nullable=True))
        batch.create_index("ix_jobs_status_team_id", ["status", "team_id"])
    op.create_table(
        "job_results",
        sa.Column("job_id", sa.String(length=21), nullable=False),
        sa.Column("team_id", sa.String(length=21), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_status", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_results")),
    )
    with op.batch_alter_table("job_results") as batch:
        batch.create_index("ix_job_results_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_results") as batch:
        batch.drop_index("ix_job_results_created_at")
    op.drop_table("job_results")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_status_team_id")
        batch.drop_column("team_id")
