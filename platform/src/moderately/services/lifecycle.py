"""One owner for the status of long-running work: every status change goes through `transition`.

A `Lifecycle` describes one kind of record that work moves through statuses (a pipeline
execution, an agent execution, a dataset's processing): its table, its status column, the
transitions allowed, the timestamp each status stamps, and where its progress payload lives.
`transition` is a compare-and-set: it reads the row, refuses a move the table does not allow
(`TransitionRefused`), and writes only while the status it read (and any `guard` columns, e.g.
the worker attempt that owns the run) still hold, so the first terminal write wins and a
worker that lost its run can never overwrite the new owner's state. It also builds the progress
payload: `progress` replaces it (the engine's own), `note` merges fields (message, error,
error_type, ...) into the current one, and either way its `status` follows the row's.

Callers: the API (PATCH, cancel: services/pipeline_executions.py; processing requests:
services/dataset_processing.py) and the jobs (jobs/): claim, progress, finish, give up, and the
worker's verdict on a process it had to stop (jobs/isolation.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import AgentExecution, Dataset, PipelineExecution
from moderately.statuses import ExecutionStatus, ProcessingStatus
from moderately.timeutil import utcnow

__all__ = [
    "AGENT_EXECUTIONS",
    "DATASET_PROCESSING",
    "PIPELINE_EXECUTIONS",
    "Lifecycle",
    "TransitionRefused",
    "failure_note",
]


class TransitionRefused(Exception):
    """The table of transitions has no move from `old` to `new`."""

    def __init__(self, old: str | None, new: str) -> None:
        super().__init__(f"cannot move from {old} to {new}")
        self.old = old
        self.new = new


@dataclass(frozen=True)
class Lifecycle:
    model: type[Any]
    key: str  # primary-key attribute
    status: str  # status attribute
    # Allowed moves; staying in a status is always allowed.
    transitions: Mapping[str | None, frozenset[str]]
    # Status -> the timestamp attribute a move into it sets (unless the caller gives it).
    stamps: Mapping[str, str] = field(default_factory=dict)
    # Stamps set only the first time (a resumed run keeps its first start).
    first_only: frozenset[str] = frozenset()
    # The JSON progress attribute, if the record has one.
    progress: str | None = None

    async def transition(
        self,
        session: AsyncSession,
        key: str,
        to: str,
        *,
        expected: Collection[str | None] | None = None,
        guard: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        progress: Mapping[str, Any] | None = None,
        note: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Any | None:
        """Move record `key` to status `to`; the updated row, or None when it is gone, its
        status is not in `expected`, or a concurrent write won (guards no longer hold).

        Without `expected`, any status the table allows a move from is accepted and any other
        raises `TransitionRefused` (what an API caller reports as a 400)."""
        await session.flush()  # the caller's own pending changes first; the read refreshes
        row = await session.get(self.model, key, populate_existing=True)
        if row is None:
            return None
        old = getattr(row, self.status)
        if expected is not None and old not in expected:
            return None
        if to != old and to not in self.transitions.get(old, frozenset()):
            raise TransitionRefused(old, to)
        guards = dict(guard or {})
        if any(getattr(row, name) != value for name, value in guards.items()):
            return None
        now = now or utcnow()
        written: dict[str, Any] = {self.status: to, **(values or {})}
        stamp = self.stamps.get(to)
        first = stamp in self.first_only and getattr(row, stamp or "", None) is not None
        if stamp and to != old and stamp not in written and not first:
            written[stamp] = now
        if self.progress is not None and (progress is not None or note is not None):
            payload = dict(progress if progress is not None else getattr(row, self.progress) or {})
            payload.update(note or {})
            payload["status"] = to
            written[self.progress] = payload
        if hasattr(self.model, "updated_at"):
            written.setdefault("updated_at", now)
        model = self.model
        condition = (getattr(model, self.key) == key) & (getattr(model, self.status) == old)
        for name, value in guards.items():
            condition = condition & (getattr(model, name) == value)
        result = await session.execute(
            update(model)
            .where(condition)
            .values(**written)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        await session.refresh(row)
        return row


def failure_note(message: str, error_type: str, **extra: Any) -> dict[str, Any]:
    """The progress fields of a failure, as the engine writes them (engine/execute.py)."""
    return {
        "message": message,
        "error": message,
        "errors": [message],
        "error_type": error_type,
        **extra,
    }


# The status moves of pipeline executions; agent executions move the same way.
_EXECUTION_MOVES: Mapping[str | None, frozenset[str]] = {
    ExecutionStatus.PENDING: frozenset(
        {ExecutionStatus.RUNNING, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
    ),
    ExecutionStatus.RUNNING: frozenset(
        {
            ExecutionStatus.COMPLETED,
            ExecutionStatus.FAILED,
            ExecutionStatus.CANCELLED,
            ExecutionStatus.PAUSED,
        }
    ),
    ExecutionStatus.PAUSED: frozenset({ExecutionStatus.RUNNING, ExecutionStatus.CANCELLED}),
}
_EXECUTION_STAMPS: Mapping[str, str] = {
    ExecutionStatus.RUNNING: "started_at",
    ExecutionStatus.COMPLETED: "completed_at",
    ExecutionStatus.FAILED: "failed_at",
    ExecutionStatus.CANCELLED: "cancelled_at",
    ExecutionStatus.PAUSED: "paused_at",
}
PIPELINE_EXECUTIONS = Lifecycle(
    model=PipelineExecution,
    key="pipeline_execution_id",
    status="status",
    transitions=_EXECUTION_MOVES,
    stamps=_EXECUTION_STAMPS,
    first_only=frozenset({"started_at"}),
    progress="progress_data",
)
# No progress payload: an agent's progress is its memory states (jobs/agent_execute.py).
AGENT_EXECUTIONS = Lifecycle(
    model=AgentExecution,
    key="agent_execution_id",
    status="status",
    transitions=_EXECUTION_MOVES,
    stamps=_EXECUTION_STAMPS,
    first_only=frozenset({"started_at"}),
)

_RESTART = frozenset(
    {ProcessingStatus.NEEDS_PROCESSING, ProcessingStatus.IN_PROGRESS, ProcessingStatus.FAILED}
)
# A dataset's processing (services/dataset_processing.py, jobs/dataset_process.py): new data or a
# new schema makes any state `needs-processing`; a request starts a run (or fails at once when
# there is nothing to process); a run ends completed or failed.
DATASET_PROCESSING = Lifecycle(
    model=Dataset,
    key="dataset_id",
    status="processing_status",
    transitions={
        None: _RESTART,
        ProcessingStatus.NEEDS_PROCESSING: _RESTART,
        ProcessingStatus.IN_PROGRESS: _RESTART | {ProcessingStatus.COMPLETED},
        ProcessingStatus.COMPLETED: _RESTART,
        ProcessingStatus.FAILED: _RESTART,
    },
)
