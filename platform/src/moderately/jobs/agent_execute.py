"""The `agent.execute` job (docs/agents.md): one attempt at running one agent execution.

`run(job)`, inside the job's own process (jobs/isolation.py):

1. Claim: `pending` (or `running`: a resume, or an attempt whose worker died) becomes `running`
   with this attempt's `runner_id`. Anything else (cancelled, finished, deleted) ends the job.
2. Build the `AgentSpec` from the execution and its configuration version (timeout =
   min(timeout_minutes, MODERATELY_AGENT_MAX_TIMEOUT_SECONDS); tool calls bounded by
   MODERATELY_AGENT_TOOL_TIMEOUT_SECONDS) and run the agent runtime with a `DbAgentHost`
   (jobs/agent_host.py), resuming from the latest memory state when there is one, while a
   `Watcher` refreshes the cancel and pause flags.
3. Finish through the lifecycle (AGENT_EXECUTIONS) with a compare-and-set on `runner_id`:
   completed (agentOutput, agentOutputSummary), failed (a final `system` step holding the error
   in a new memory state, unless the runtime recorded one; agentOutputSummary `Failed:
   <reason>`), paused or cancelled. The outcome's token usage is kept in the execution's `usage`.

In the worker process: `stop_requested` ends a process that did not stop in time after a cancel
or pause; `stopped` fails the execution over a budget (memory, wall time) naming it; `gave_up`
fails it with `worker_lost` once the job's attempts are spent. An execution is never left
`running`.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.agents.host import AgentOutcome, AgentSpec
from moderately.config import Settings
from moderately.db.dialect import for_update
from moderately.db.models import (
    Agent,
    AgentConfigurationVersion,
    AgentExecution,
)
from moderately.db.session import Database
from moderately.engine.errors import internal_error_text
from moderately.jobs.agent_host import DbAgentHost, next_state
from moderately.jobs.base import JobHandler, JobRuntime, Stop, runner_id
from moderately.jobs.executions import ExecutionJob
from moderately.jobs.pipeline_context import RunSignals
from moderately.jobs.watcher import Watcher
from moderately.services.agent_executions import (
    EXECUTE,
    PAYLOAD_KEY,
    SUMMARY_LIMIT,
    latest_state,
)
from moderately.services.lifecycle import AGENT_EXECUTIONS
from moderately.services.scope import get_in_team
from moderately.statuses import ExecutionStatus
from moderately.timeutil import format_timestamp, utcnow
from moderately.workers.base import Job

log = logging.getLogger("moderately.agents")

__all__ = ["EXECUTE", "handlers"]

Execution = AgentExecution
TIMEOUT_SETTING = "MODERATELY_AGENT_MAX_TIMEOUT_SECONDS"
# Past the run's own timeout: time for the runtime's last write before the job itself gives up
# (the worker kills the process only past the longest allowed run plus this).
FINISH_GRACE_SECONDS = 30.0


JOB = ExecutionJob(AGENT_EXECUTIONS, PAYLOAD_KEY)


def handlers(runtime: JobRuntime) -> dict[str, JobHandler]:
    return {
        EXECUTE: JOB.handler(
            runtime,
            run=run,
            stopped=stopped,
            gave_up=gave_up,
            timeout_seconds=runtime.settings.agent_max_timeout_seconds + FINISH_GRACE_SECONDS,
            timeout_setting=TIMEOUT_SETTING,
        )
    }


# ---- the run ----


def build_spec(
    execution: Execution, version: AgentConfigurationVersion, agent_name: str, settings: Settings
) -> AgentSpec:
    config = version.execution_config or {}
    timeout = float(config.get("timeout_minutes") or 30) * 60
    return AgentSpec(
        execution_id=execution.agent_execution_id,
        team_id=execution.team_id,
        agent_name=agent_name,
        instructions=version.instructions,
        system_prompt=version.system_prompt,
        llm_config=version.llm_config or {},
        tool_config=list(version.tool_config or []),
        input_schema=execution.agent_input_schema,
        output_schema=execution.agent_output_schema,
        agent_input=execution.agent_input,
        agent_input_summary=execution.agent_input_summary,
        max_actions=execution.max_actions or int(config.get("max_actions") or 10),
        planning_interval=execution.planning_interval or int(config.get("planning_interval") or 4),
        feedback_rounds=int(config.get("feedback_rounds") or 0),
        timeout_seconds=min(timeout, settings.agent_max_timeout_seconds),
        tool_timeout_seconds=settings.agent_tool_timeout_seconds,
    )


async def _load(
    database: Database, execution: Execution
) -> tuple[AgentConfigurationVersion, str, dict[str, Any] | None] | None:
    """The configuration version, the agent's name and the latest memory state (a resume)."""
    async with database.session(write=False) as session:
        team_id = execution.team_id
        version_id = execution.agent_configuration_version_id
        version = await get_in_team(session, AgentConfigurationVersion, version_id, team_id)
        agent = await get_in_team(session, Agent, execution.agent_id, team_id)
        latest = await latest_state(session, execution.agent_execution_id)
        if version is None or agent is None:
            return None
        session.expunge(version)
        return version, agent.name, (dict(latest.state) if latest is not None else None)


async def run(runtime: JobRuntime, job: Job) -> None:
    database, settings = runtime.database, runtime.settings
    execution_id = JOB.execution_id(job)
    owner = runner_id(job)
    execution: Execution | None = await JOB.claim(database, execution_id, owner)
    if execution is None:
        return  # cancelled, finished or deleted meanwhile
    loaded = await _load(database, execution)
    if loaded is None:
        return  # the agent was deleted: its executions went with it
    version, agent_name, resume = loaded
    spec = build_spec(execution, version, agent_name, settings)
    signals = RunSignals()
    watcher = Watcher(settings, execution_id, owner, signals, lifecycle=AGENT_EXECUTIONS)
    with tempfile.TemporaryDirectory(prefix="moderately-agent-") as scratch:
        host = DbAgentHost(
            database,
            runtime.storage,
            execution_id=execution_id,
            team_id=execution.team_id,
            runner_id=owner,
            scratch=Path(scratch),
            signals=signals,
            max_file_bytes=settings.job_max_value_bytes,
        )
        watcher.start()
        try:
            outcome = await _run_agent(spec, host, settings, resume)
        finally:
            await watcher.stop()
    await finish(database, execution_id, owner, outcome)


async def _run_agent(
    spec: AgentSpec, host: DbAgentHost, settings: Settings, resume: dict[str, Any] | None
) -> AgentOutcome:
    """The runtime's outcome; a runtime that raises or overstays is a failed outcome."""
    try:
        # Imported here: the runtime and the AI layer load only in jobs that run agents.
        from moderately.agents.runtime import run_agent
        from moderately.ai import ai_services

        ai = ai_services(settings)
    except ImportError as exc:
        log.exception("execution %s: the agent runtime cannot load", spec.execution_id)
        return AgentOutcome(
            ExecutionStatus.FAILED, error_type="internal_error", message=internal_error_text(exc)
        )
    try:
        async with asyncio.timeout(spec.timeout_seconds + FINISH_GRACE_SECONDS):
            return await run_agent(spec, host, ai, resume_state=resume)
    except TimeoutError:
        limit = f"{spec.timeout_seconds:g} s"
        return AgentOutcome(
            ExecutionStatus.FAILED, error_type="timeout", message=f"ran past {limit}"
        )
    except Exception as exc:  # a bug in the runtime or a tool: fail, never retry blindly
        log.exception("execution %s: the agent runtime failed", spec.execution_id)
        return AgentOutcome(
            ExecutionStatus.FAILED, error_type="internal_error", message=internal_error_text(exc)
        )


# ---- the end of a run ----


def _system_step(message: str) -> dict[str, Any]:
    """A `system` step in the live-tail shape."""
    now = format_timestamp(utcnow())
    return {
        "stepType": "system",
        "system": message,
        "startedAt": now,
        "endedAt": now,
        "summary": message[:200],
    }


def failure_message(outcome: AgentOutcome) -> str:
    reason = outcome.message or outcome.error_type or "the run failed"
    return f"{outcome.error_type}: {reason}" if outcome.error_type else reason


async def _record_failure(
    session: AsyncSession, execution: Execution, message: str, usage: Mapping[str, Any] | None
) -> None:
    """A final `system` step with the error, in a new memory state (unless the runtime's own
    last step already is one)."""
    latest = await latest_state(session, execution.agent_execution_id)
    state = dict(latest.state) if latest is not None else {}
    steps = [s for s in state.get("steps") or [] if isinstance(s, dict)]
    if steps and steps[-1].get("stepType") == "system":
        return
    state["steps"] = [*steps, _system_step(message)]
    if usage:
        state["usage"] = dict(usage)
    await next_state(session, execution, state)


async def _lock(session: AsyncSession, execution_id: str) -> Execution | None:
    return await session.scalar(
        for_update(select(Execution).where(Execution.agent_execution_id == execution_id))
    )


async def finish(database: Database, execution_id: str, owner: str, outcome: AgentOutcome) -> None:
    usage = dict(outcome.usage) if outcome.usage else None
    async with database.session() as session:
        execution = await _lock(session, execution_id)
        if execution is None or execution.runner_id != owner:
            return  # deleted, or another attempt owns it now
        values: dict[str, Any] = {} if usage is None else {"usage": usage}
        status = outcome.status
        if (
            status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
            and execution.status == ExecutionStatus.PAUSED
        ):
            # A pause that came too late: the run ended first, and its end wins.
            await AGENT_EXECUTIONS.transition(
                session,
                execution_id,
                ExecutionStatus.RUNNING,
                expected=(ExecutionStatus.PAUSED,),
                guard={"runner_id": owner},
            )
        if status == ExecutionStatus.COMPLETED:
            values["agent_output"] = outcome.output or {}
            values["agent_output_summary"] = outcome.output_summary
            expected: tuple[str, ...] = (ExecutionStatus.RUNNING,)
        elif status == ExecutionStatus.FAILED:
            message = failure_message(outcome)
            if execution.status in (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED):
                await _record_failure(session, execution, message, usage)
            summary = outcome.output_summary or f"Failed: {message}"
            values["agent_output_summary"] = summary[:SUMMARY_LIMIT]
            expected = (ExecutionStatus.RUNNING,)
        elif status == ExecutionStatus.PAUSED:
            expected = (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED)
        else:  # cancelled: by request (the row says so already), else it stops as cancelled
            if execution.status == ExecutionStatus.RUNNING:
                values["agent_output_summary"] = "Cancelled: the run stopped"
            expected = (ExecutionStatus.RUNNING, ExecutionStatus.CANCELLED)
        written = await AGENT_EXECUTIONS.transition(
            session,
            execution_id,
            status,
            expected=expected,
            guard={"runner_id": owner},
            values=values,
        )
    if written is not None:
        log.info("agent execution %s %s (runner %s)", execution_id, status, owner)


async def fail(
    database: Database,
    execution_id: str,
    message: str,
    *,
    expected: tuple[str, ...],
    guard: Mapping[str, Any] | None = None,
) -> None:
    """Fail an execution from outside its run (worker lost, a budget): the error as its final
    system step, `Failed: <message>` as its summary."""
    async with database.session() as session:
        execution = await _lock(session, execution_id)
        if execution is None or execution.status not in expected:
            return
        if any(getattr(execution, name) != value for name, value in (guard or {}).items()):
            return
        await _record_failure(session, execution, message, None)
        await AGENT_EXECUTIONS.transition(
            session,
            execution_id,
            ExecutionStatus.FAILED,
            expected=expected,
            guard=guard,
            values={"agent_output_summary": f"Failed: {message}"[:SUMMARY_LIMIT]},
        )


async def stopped(database: Database, job: Job, stop: Stop) -> None:
    """The worker ended this attempt's process: over a budget the execution fails naming it; on
    request the row says cancelled or paused already."""
    if stop.kind != "resource_limit":
        return
    await fail(
        database,
        JOB.execution_id(job),
        f"{stop.error_type}: {stop.message}",
        expected=(ExecutionStatus.RUNNING,),
        guard={"runner_id": runner_id(job)},
    )


async def gave_up(database: Database, job: Job, reason: str) -> None:
    """The job's attempts are spent: fail the execution (`worker_lost`), never leave it running."""
    message = f"worker_lost: the worker running this execution was lost: {reason}"[:2000]
    await fail(
        database,
        JOB.execution_id(job),
        message,
        expected=(ExecutionStatus.PENDING, ExecutionStatus.RUNNING),
    )
