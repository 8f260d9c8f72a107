"""audit logs, shared rate-limit buckets, and what an idempotency record needs to re-authorize

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=21)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    # No foreign keys: an entry outlives the team, user, token or resource it names.
    op.create_table(
        "audit_logs",
        sa.Column("audit_log_id", ID, nullable=False),
        sa.Column("team_id", ID, nullable=True),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("api_token_id", ID, nullable=True),
        sa.Column("session_id", ID, nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("resource_type", sa.String(length=50), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("audit_log_id", name=op.f("pk_audit_logs")),
    )
    with op.batch_alter_table("audit_logs") as batch:
        batch.create_index("ix_audit_logs_team_id_created_at", ["team_id", "created_at"])
        batch.create_index("ix_audit_logs_resource", ["resource_type", "resource_id"])
        batch.create_index("ix_audit_logs_user_id_created_at", ["user_id", "created_at"])

    op.create_table(
        "rate_limit_buckets",
        sa.Column("token_id", ID, nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_rate_limit_buckets")),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.token_id"],
            name=op.f("fk_rate_limit_buckets_token_id_api_tokens"),
            ondelete="CASCADE",
        ),
    )

    with op.batch_alter_table("idempotency_records") as batch:
        # The role checks the first request passed, re-checked before a replay.
        batch.add_column(sa.Column("authorization", sa.JSON(), nullable=True))
        # A response that carried a secret is not kept; only what it created is remembered.
        batch.add_column(sa.Column("secret_resource_id", ID, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records") as batch:
        batch.drop_column("secret_resource_id")
        batch.drop_column("authorization")
    op.drop_table("rate_limit_buckets")
    with op.batch_alter_table("audit_logs") as batch:
        batch.drop_index("ix_audit_logs_user_id_created_at")
        batch.drop_index("ix_audit_logs_resource")
        batch.drop_index("ix_audit_logs_team_id_created_at")
    op.drop_table("audit_logs")
