"""Agent-execution rules that need no I/O, shared by both clients: the input summary the SDK
generates, and what a finished execution means for ``wait_for_completion`` (docs/agents.md)."""

import json
import time
from typing import Any, Mapping, Optional

from ._exceptions import AgentExecutionCancelledError, AgentExecutionFailedError, TimeoutError
from ._pipelines import poll_delay
from .types.agent_execution import AgentExecution

__all__ = [
    "MAX_INPUT_SUMMARY",
    "check_finished",
    "failure_reason",
    "input_summary",
    "next_poll_delay",
]

MAX_INPUT_SUMMARY = 500  # agentInputSummary is 1-500 characters on the wire
_FAILED_PREFIX = "Failed: "


def input_summary(agent_input: Mapping[str, Any]) -> str:
    """A summary for an execution whose caller gave none: the input as compact JSON, cut to the
    wire's 500 characters, or ``"Agent execution"`` for an empty input."""
    if not agent_input:
        return "Agent execution"
    text = json.dumps(agent_input, separators=(",", ":"), ensure_ascii=False, default=str)
    return text[:MAX_INPUT_SUMMARY]


def failure_reason(execution: AgentExecution) -> Optional[str]:
    """Why a failed execution failed: its ``agentOutputSummary`` without the ``Failed:`` prefix
    the server writes."""
    summary = execution.agent_output_summary
    if not summary:
        return None
    return summary[len(_FAILED_PREFIX) :] if summary.startswith(_FAILED_PREFIX) else summary


def check_finished(execution: AgentExecution) -> AgentExecution:
    """``execution`` if it completed; the typed error if it failed or was cancelled."""
    if execution.status == "failed":
        reason = failure_reason(execution)
        raise AgentExecutionFailedError(
            "Agent execution failed" + (f": {reason}" if reason else ""),
            execution=execution,
            execution_id=execution.agent_execution_id,
            reason=reason,
        )
    if execution.status == "cancelled":
        raise AgentExecutionCancelledError(
            "Agent execution was cancelled",
            execution=execution,
            execution_id=execution.agent_execution_id,
        )
    return execution


def next_poll_delay(
    attempt: int, poll_interval: float, timeout: Optional[float], started: float, still: str
) -> float:
    """Seconds before poll ``attempt + 1`` (quick at first, then ``poll_interval``), cut to what
    is left of ``timeout``; ``TimeoutError("<still> after <timeout> s")`` once it has passed.
    ``started`` is a ``time.monotonic()`` reading."""
    delay = poll_delay(attempt, poll_interval)
    if timeout is None:
        return delay
    left = timeout - (time.monotonic() - started)
    if left <= 0:
        raise TimeoutError(f"{still} after {timeout:g} s")
    return min(delay, left)
