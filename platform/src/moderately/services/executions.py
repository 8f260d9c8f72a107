"""What pipeline and agent executions share as the API sees them: their statuses, the columns
a list sorts by, and the rules of a caller's status change and cancel
(services/pipeline_executions.py, services/agent_executions.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from moderately.errors import Conflict, InvalidState
from moderately.services.lifecycle import Lifecycle, TransitionRefused
from moderately.statuses import TERMINAL_EXECUTION_STATUSES, ExecutionStatus


def sort_columns(model: Any) -> dict[str, InstrumentedAttribute[Any]]:
    """The `orderBy` values an execution list accepts."""
    return {
        "createdAt": model.created_at,
        "updatedAt": model.updated_at,
        "startedAt": model.started_at,
    }


async def transition(
    session: AsyncSession, lifecycle: Lifecycle, execution: Any, to: str, **changes: Any
) -> Any:
    """A status change asked for by a caller: 400 when the lifecycle has no such move, 409
    when a concurrent change won (read it again and retry). `changes` go to the lifecycle's
    `transition` (values, note)."""
    try:
        written = await lifecycle.transition(
            session,
            getattr(execution, lifecycle.key),
            to,
            expected=(execution.status,),
            **changes,
        )
    except TransitionRefused as exc:
        raise InvalidState(
            f"an execution that is {exc.old} cannot become {exc.new}", field="status", value=to
        ) from None
    if written is None:
        raise Conflict("the execution changed meanwhile: read it again and retry")
    return execution


def cancel_reason(execution: Any, reason: str | None) -> str:
    """The reason a cancel records; 409 once the execution has finished."""
    if execution.status in TERMINAL_EXECUTION_STATUSES:
        raise Conflict(f"the execution is already {execution.status}")
    return reason or "cancelled by request"


def resumes(old: str, new: str) -> bool:
    """A paused execution set running again: its job is queued anew."""
    return old == ExecutionStatus.PAUSED and new == ExecutionStatus.RUNNING
