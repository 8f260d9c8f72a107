"""The agent runtime's host for one execution on a worker (agents/host.py AgentHost).

Files and datasets are read as the pipelines' run context reads them (jobs/pipeline_context.py
TeamRunHost), scoped to the execution's team; new text files are stored like completed uploads
(services/files.py store_file). `record` saves the next memory-state version, appends the thought
and sets `currentStep` in one short transaction, only while this attempt still owns a live run;
the cancel and pause flags are refreshed by the watcher's thread (jobs/watcher.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from moderately.agents.host import ResourceInfo
from moderately.db.dialect import for_update
from moderately.db.models import (
    AgentExecution,
    AgentExecutionMemoryState,
    Dataset,
    DatasetDataVersion,
    File,
)
from moderately.db.session import Database
from moderately.jobs.pipeline_context import RunSignals, TeamRunHost
from moderately.services.agent_executions import latest_state
from moderately.services.files import store_file
from moderately.services.scope import get_in_team
from moderately.services.transfers import Storage
from moderately.statuses import ExecutionStatus, UploadStatus
from moderately.timeutil import format_timestamp, utcnow

__all__ = ["MAX_FILE_NAME", "MAX_RESOURCES", "DbAgentHost", "next_state"]

MAX_RESOURCES = 1000  # listed by list_resources, newest first
MAX_FILE_NAME = 255
TEXT_MIME = "text/plain; charset=utf-8"
# A run owns its record while it is running, or paused by a request it has not yet seen.
LIVE = (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED)


async def next_state(
    session: Any, execution: AgentExecution, state: Mapping[str, Any]
) -> AgentExecutionMemoryState:
    """Add `state` as the execution's next memory-state version (the caller holds its row)."""
    highest = await session.scalar(
        select(func.max(AgentExecutionMemoryState.version)).where(
            AgentExecutionMemoryState.agent_execution_id == execution.agent_execution_id
        )
    )
    row = AgentExecutionMemoryState(
        agent_execution_id=execution.agent_execution_id,
        version=int(highest or 0) + 1,
        state=dict(state),
    )
    session.add(row)
    return row


class DbAgentHost(TeamRunHost):
    def __init__(
        self,
        database: Database,
        storage: Storage,
        *,
        execution_id: str,
        team_id: str,
        runner_id: str,
        scratch: Path,
        signals: RunSignals,
        max_file_bytes: int,
    ) -> None:
        super().__init__(
            database,
            storage,
            execution_id=execution_id,
            team_id=team_id,
            scratch=scratch,
            signals=signals,
        )
        self.runner_id = runner_id
        self.max_file_bytes = max_file_bytes

    # ---- the team's resources (files and datasets read as TeamRunHost reads them) ----

    async def list_resources(self) -> list[ResourceInfo]:
        """Completed files and datasets of the team, newest first, at most MAX_RESOURCES."""
        async with self.database.session(write=False) as session:
            files = (
                await session.execute(
                    select(File.file_id, File.file_name, File.file_size, File.mime_type)
                    .where(
                        File.team_id == self.team_id, File.upload_status == UploadStatus.COMPLETED
                    )
                    .order_by(File.created_at.desc(), File.file_id)
                    .limit(MAX_RESOURCES)
                )
            ).all()
            datasets = (
                await session.execute(
                    select(Dataset.dataset_id, Dataset.name, DatasetDataVersion.row_count)
                    .outerjoin(
                        DatasetDataVersion,
                        DatasetDataVersion.dataset_data_version_id
                        == Dataset.current_data_version_id,
                    )
                    .where(Dataset.team_id == self.team_id)
                    .order_by(Dataset.created_at.desc(), Dataset.dataset_id)
                    .limit(MAX_RESOURCES)
                )
            ).all()
        found = [
            ResourceInfo(f.file_id, "file", f.file_name, size=f.file_size, mime_type=f.mime_type)
            for f in files
        ]
        found += [
            ResourceInfo(d.dataset_id, "dataset", d.name, row_count=d.row_count) for d in datasets
        ]
        return found[:MAX_RESOURCES]

    async def create_text_file(self, name: str, content: str) -> str:
        name = name.strip()
        if not name or len(name) > MAX_FILE_NAME or "\x00" in name:
            raise ValueError(f"a file name must have 1 to {MAX_FILE_NAME} characters")
        data = content.encode()
        if len(data) > self.max_file_bytes:
            raise ValueError(
                f"the file would have {len(data)} bytes; the limit is {self.max_file_bytes} "
                "(MODERATELY_JOB_MAX_VALUE_BYTES)"
            )
        file = await store_file(
            self.database,
            self.storage,
            team_id=self.team_id,
            file_name=name,
            data=data,
            mime_type=TEXT_MIME,
            metadata={"createdByAgentExecutionId": self._execution_id},
        )
        return file.file_id

    async def execution_digest(self, agent_execution_id: str) -> dict[str, Any] | None:
        async with self.database.session(write=False) as session:
            other = await get_in_team(session, AgentExecution, agent_execution_id, self.team_id)
            if other is None:
                return None
            latest = await latest_state(session, agent_execution_id)
        state = latest.state if latest is not None else None
        steps = state.get("steps") if isinstance(state, dict) else None
        return {
            "status": other.status,
            "agentOutput": other.agent_output,
            "agentOutputSummary": other.agent_output_summary,
            "steps": steps if isinstance(steps, list) else [],
        }

    # ---- the run's record ----

    async def record(
        self,
        state: Mapping[str, Any],
        *,
        thought: str | None = None,
        current_step: int | None = None,
    ) -> None:
        async with self.database.session() as session:
            execution = await session.scalar(
                for_update(
                    select(AgentExecution).where(
                        AgentExecution.agent_execution_id == self._execution_id
                    )
                )
            )
            if (
                execution is None
                or execution.runner_id != self.runner_id
                or execution.status not in LIVE
            ):
                self.signals.cancel = True  # cancelled, deleted or taken over: stop soon
                return
            await next_state(session, execution, state)
            if thought:
                entry = {"text": thought, "createdAt": format_timestamp(utcnow())}
                execution.thoughts = [*(execution.thoughts or []), entry]
            if current_step is not None:
                execution.current_step = current_step
            usage = state.get("usage")
            if isinstance(usage, dict):
                execution.usage = usage
            execution.updated_at = utcnow()
