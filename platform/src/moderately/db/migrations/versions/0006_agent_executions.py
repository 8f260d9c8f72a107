"""agent configuration versions, agent executions and their memory states

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=21)


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred, _ = target.split(".")
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    versions = "agent_configuration_versions"
    op.create_table(
        versions,
        sa.Column("agent_configuration_version_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("team_id", ID, nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("input_schema", sa.JSON(), nullable=False),
        sa.Column("output_schema", sa.JSON(), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("llm_config", sa.JSON(), nullable=False),
        sa.Column("tool_config", sa.JSON(), nullable=False),
        sa.Column("execution_config", sa.JSON(), nullable=False),
        *_timestamps(),
        _fk(versions, "agent_id", "agents.agent_id"),
        _fk(versions, "team_id", "teams.team_id"),
        sa.PrimaryKeyConstraint("agent_configuration_version_id", name=op.f(f"pk_{versions}")),
        sa.UniqueConstraint(
            "agent_id", "version_number", name=op.f(f"uq_{versions}_agent_id_version_number")
        ),
    )
    with op.batch_alter_table(versions) as batch:
        batch.create_index(f"ix_{versions}_team_id_created_at", ["team_id", "created_at"])
        batch.create_index(
            f"uq_{versions}_current",
            ["agent_id"],
            unique=True,
            sqlite_where=sa.text("is_current = 1"),
            postgresql_where=sa.text("is_current"),
        )

    executions = "agent_executions"
    op.create_table(
        executions,
        sa.Column("agent_execution_id", ID, nullable=False),
        sa.Column("agent_configuration_version_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("team_id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agent_input", sa.JSON(), nullable=False),
        sa.Column("agent_input_schema", sa.JSON(), nullable=False),
        sa.Column("agent_output_schema", sa.JSON(), nullable=False),
        sa.Column("agent_input_summary", sa.Text(), nullable=False),
        sa.Column("agent_output", sa.JSON(), nullable=True),
        sa.Column("agent_output_summary", sa.Text(), nullable=True),
        sa.Column("thoughts", sa.JSON(), nullable=False),
        sa.Column("max_actions", sa.Integer(), nullable=True),
        sa.Column("planning_interval", sa.Integer(), nullable=True),
        sa.Column("current_step", sa.Integer(), nullable=True),
        sa.Column("usage", sa.JSON(), nullable=True),
        sa.Column("runner_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        _fk(
            executions,
            "agent_configuration_version_id",
            "agent_configuration_versions.agent_configuration_version_id",
        ),
        _fk(executions, "agent_id", "agents.agent_id"),
        _fk(executions, "team_id", "teams.team_id"),
        sa.PrimaryKeyConstraint("agent_execution_id", name=op.f(f"pk_{executions}")),
    )
    with op.batch_alter_table(executions) as batch:
        batch.create_index(f"ix_{executions}_team_id_created_at", ["team_id", "created_at"])
        batch.create_index(f"ix_{executions}_agent_id_created_at", ["agent_id", "created_at"])
        batch.create_index(
            f"ix_{executions}_agent_configuration_version_id", ["agent_configuration_version_id"]
        )

    states = "agent_execution_memory_states"
    op.create_table(
        states,
        sa.Column("agent_execution_memory_state_id", ID, nullable=False),
        sa.Column("agent_execution_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        *_timestamps(),
        _fk(states, "agent_execution_id", "agent_executions.agent_execution_id"),
        sa.PrimaryKeyConstraint("agent_execution_memory_state_id", name=op.f(f"pk_{states}")),
        sa.UniqueConstraint(
            "agent_execution_id", "version", name=op.f(f"uq_{states}_agent_execution_id_version")
        ),
    )


def downgrade() -> None:
    op.drop_table("agent_execution_memory_states")
    with op.batch_alter_table("agent_executions") as batch:
        batch.drop_index("ix_agent_executions_agent_configuration_version_id")
        batch.drop_index("ix_agent_executions_agent_id_created_at")
        batch.drop_index("ix_agent_executions_team_id_created_at")
    op.drop_table("agent_executions")
    with op.batch_alter_table("agent_configuration_versions") as batch:
        batch.drop_index(
            "uq_agent_configuration_versions_current",
            sqlite_where=sa.text("is_current = 1"),
            postgresql_where=sa.text("is_current"),
        )
        batch.drop_index("ix_agent_configuration_versions_team_id_created_at")
    op.drop_table("agent_configuration_versions")
