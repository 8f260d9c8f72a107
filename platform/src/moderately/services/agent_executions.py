"""Agent executions, their memory states and the live tail.

* Create takes the spec's body (`agentConfigurationVersionId`, `agentInput`, `agentInputSummary`)
  or 0.2.7's (`agent_id`, `input_data`), which runs the agent's current configuration version;
  the summary defaults to `Execution of <agent name>`. The input and output schemas are the
  request's or the version's (snapshot on the row); `agentInput` must satisfy the input schema
  (400 `invalid_agent_input`, details `[{field, message, value?}]`). `maxActions` /
  `planningInterval` come from the request or the version's `executionConfig`. The row starts
  `pending` and an `agent.execute` job is queued in the same transaction
  (jobs/agent_execute.py).
* Statuses move through the lifecycle's compare-and-set (services/lifecycle.py
  AGENT_EXECUTIONS), as pipelines do: cancel (POST or PATCH .../cancel, or PATCH `status:
  cancelled`) from pending, running or paused, 409 once finished; PATCH `paused` / `running`
  pauses and resumes (a resumed run continues from its latest memory state).
* Delete removes the execution and its memory states; a running job sees its row gone and stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import Agent, AgentConfigurationVersion, AgentExecution
from moderately.db.models import AgentExecutionMemoryState as MemoryState
from moderately.engine.jsonschemas import validator_for
from moderately.errors import Invalid, InvalidState, NotFound
from moderately.schemas.pipelines import ExecutionStatuses
from moderately.services import agent_configurations as configurations
from moderately.services.auth import Principal
from moderately.services.executions import (
    cancel_reason,
    resumes,
    sort_columns,
    transition,
)
from moderately.services.filters import ListFilters, Values, filtered, one_of, present
from moderately.services.lifecycle import AGENT_EXECUTIONS
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.scope import get_in_team, get_scoped
from moderately.statuses import ExecutionStatus
from moderately.workers.base import JobQueue

EXECUTE = "agent.execute"
PAYLOAD_KEY = "agentExecutionId"  # what the job's payload names the execution by
INVALID_INPUT = "invalid_agent_input"
SUMMARY_LIMIT = 500
Execution = AgentExecution
SORT = sort_columns(Execution)
MEMORY_SORT = {"version": MemoryState.version, "createdAt": MemoryState.created_at}


# ---- create ----


@dataclass(frozen=True)
class NewExecution:
    """A create request in either body form (schemas/agents.py AgentExecutionCreate)."""

    version_id: str | None = None
    agent_id: str | None = None
    agent_input: Mapping[str, Any] | None = None
    agent_input_summary: str | None = None
    agent_input_schema: Any = None
    agent_output_schema: Any = None
    max_actions: int | None = None
    planning_interval: int | None = None


async def _resolve_version(
    session: AsyncSession, principal: Principal, request: NewExecution
) -> tuple[AgentConfigurationVersion, Agent]:
    if request.version_id is not None:
        version = await configurations.get_version(
            session, principal=principal, version_id=request.version_id
        )
        if request.agent_id is not None and request.agent_id != version.agent_id:
            raise Invalid(
                "agentId names another agent than the configuration version's",
                field="agentId",
                value=request.agent_id,
            )
        agent = await get_in_team(session, Agent, version.agent_id, version.team_id)
        if agent is None:  # deleted meanwhile
            raise NotFound("agent configuration version", request.version_id)
        return version, agent
    if request.agent_id is None:
        raise Invalid(
            "agentConfigurationVersionId (or 0.2.7's agent_id) is required",
            field="agentConfigurationVersionId",
        )
    agent = await get_scoped(session, Agent, request.agent_id, principal)
    current = await configurations.current_version(session, agent)
    if current is None:
        raise InvalidState(
            f"agent {agent.agent_id} has no current configuration version",
            field="agentId",
            value=agent.agent_id,
        )
    return current, agent


def _check_input(schema: Any, agent_input: Mapping[str, Any]) -> None:
    problems = validator_for(schema).problems(agent_input)
    if not problems:
        return
    details = []
    for path, message, value in problems:
        detail: dict[str, Any] = {"field": "agentInput" + path, "message": message}
        if value is not None and not isinstance(value, dict | list):
            detail["value"] = value
        details.append(detail)
    raise Invalid(
        f"agentInput does not match the input schema: {details[0]['field']}: {problems[0][1]}",
        details=details,
        code=INVALID_INPUT,
    )


async def create_execution(
    session: AsyncSession, *, principal: Principal, jobs: JobQueue, request: NewExecution
) -> Execution:
    version, agent = await _resolve_version(session, principal, request)
    principal.require_write()
    input_schema = (
        configurations.check_schema(request.agent_input_schema, "agentInputSchema")
        if request.agent_input_schema is not None
        else version.input_schema
    )
    output_schema = (
        configurations.check_schema(request.agent_output_schema, "agentOutputSchema")
        if request.agent_output_schema is not None
        else version.output_schema
    )
    agent_input = dict(request.agent_input or {})
    _check_input(input_schema, agent_input)
    config = version.execution_config or {}
    summary = request.agent_input_summary or f"Execution of {agent.name}"
    execution = Execution(
        agent_configuration_version_id=version.agent_configuration_version_id,
        agent_id=version.agent_id,
        team_id=version.team_id,
        status=ExecutionStatus.PENDING,
        agent_input=agent_input,
        agent_input_schema=input_schema,
        agent_output_schema=output_schema,
        agent_input_summary=summary[:SUMMARY_LIMIT],
        thoughts=[],
        max_actions=request.max_actions or config.get("max_actions", 10),
        planning_interval=request.planning_interval or config.get("planning_interval", 4),
        current_step=None,
    )
    session.add(execution)
    await session.flush()
    await _enqueue(session, jobs, execution)
    return execution


async def _enqueue(session: AsyncSession, jobs: JobQueue, execution: Execution) -> None:
    payload = {PAYLOAD_KEY: execution.agent_execution_id}
    await jobs.enqueue(session, EXECUTE, payload, team_id=execution.team_id)


# ---- read ----


class AgentExecutionFilters(ListFilters):
    team_column = Execution.team_id
    agent_ids: Annotated[Values, Field(alias="agentIds"), one_of(Execution.agent_id)] = None
    version_ids: Annotated[
        Values,
        Field(alias="agentConfigurationVersionIds"),
        one_of(Execution.agent_configuration_version_id),
    ] = None
    execution_ids: Annotated[
        Values, Field(alias="agentExecutionIds"), one_of(Execution.agent_execution_id)
    ] = None
    statuses: Annotated[
        ExecutionStatuses,
        Field(description="any of these statuses (0.2.7: status)"),
        one_of(Execution.status),
    ] = None
    # JSON null and SQL NULL both mean "no output": the column is only ever SQL NULL.
    has_agent_output: Annotated[
        bool | None, Field(alias="hasAgentOutput"), present(Execution.agent_output)
    ] = None


async def list_executions(
    session: AsyncSession,
    *,
    principal: Principal,
    params: PageParams,
    filters: AgentExecutionFilters,
) -> Page[Execution]:
    stmt = filtered(select(Execution), filters, principal)
    return await paginate(
        session,
        stmt,
        params=params,
        sort_columns=SORT,
        id_column=Execution.agent_execution_id,
        default_direction="desc",
    )


async def get_execution(
    session: AsyncSession, *, principal: Principal, execution_id: str
) -> Execution:
    return await get_scoped(session, Execution, execution_id, principal)


# ---- writes ----


async def cancel_execution(
    session: AsyncSession, *, principal: Principal, execution_id: str, reason: str | None = None
) -> Execution:
    execution = await get_execution(session, principal=principal, execution_id=execution_id)
    principal.require_write()
    text = cancel_reason(execution, reason)
    summary = f"Cancelled: {text}"[:SUMMARY_LIMIT]
    return await transition(
        session,
        AGENT_EXECUTIONS,
        execution,
        ExecutionStatus.CANCELLED,
        values={"agent_output_summary": summary},
    )


async def update_execution(
    session: AsyncSession,
    *,
    principal: Principal,
    jobs: JobQueue,
    execution_id: str,
    status: ExecutionStatus | None,
) -> Execution:
    """PATCH: `paused` (a running execution), `running` (resume a paused one; queued again)
    or `cancelled` (as the cancel endpoint)."""
    if status == ExecutionStatus.CANCELLED:
        return await cancel_execution(session, principal=principal, execution_id=execution_id)
    execution = await get_execution(session, principal=principal, execution_id=execution_id)
    principal.require_write()
    old = execution.status
    if status is None or status == old:
        return execution
    execution = await transition(session, AGENT_EXECUTIONS, execution, status)
    if resumes(old, status):
        await _enqueue(session, jobs, execution)
    return execution


async def delete_execution(
    session: AsyncSession, *, principal: Principal, execution_id: str
) -> None:
    execution = await get_execution(session, principal=principal, execution_id=execution_id)
    principal.require_write()
    await session.execute(
        delete(Execution).where(Execution.agent_execution_id == execution.agent_execution_id)
    )
    session.expunge(execution)
    await session.flush()


# ---- memory states and the live tail ----


def _states_of(execution_id: str) -> Select[Any]:
    return select(MemoryState).where(MemoryState.agent_execution_id == execution_id)


async def latest_state(session: AsyncSession, execution_id: str) -> MemoryState | None:
    return await session.scalar(
        _states_of(execution_id).order_by(MemoryState.version.desc()).limit(1)
    )


async def list_memory_states(
    session: AsyncSession,
    *,
    principal: Principal,
    execution_id: str,
    params: PageParams,
    version: int | None = None,
    latest: bool | None = None,
) -> Page[MemoryState]:
    """Paged versions (default order: version); `version` picks one, `latest=true` the newest."""
    execution = await get_execution(session, principal=principal, execution_id=execution_id)
    stmt = _states_of(execution.agent_execution_id)
    if version is not None:
        stmt = stmt.where(MemoryState.version == version)
    if latest:
        newest = (
            select(func.max(MemoryState.version))
            .where(MemoryState.agent_execution_id == execution.agent_execution_id)
            .scalar_subquery()
        )
        stmt = stmt.where(MemoryState.version == newest)
    if params.order_by is None:
        params = PageParams(params.page, params.page_size, "version", params.order_direction)
    return await paginate(
        session,
        stmt,
        params=params,
        sort_columns=MEMORY_SORT,
        id_column=MemoryState.agent_execution_memory_state_id,
    )


async def get_memory_state(
    session: AsyncSession, *, principal: Principal, execution_id: str, version: int
) -> MemoryState:
    execution = await get_execution(session, principal=principal, execution_id=execution_id)
    state = await session.scalar(
        _states_of(execution.agent_execution_id).where(MemoryState.version == version)
    )
    if state is None:
        raise NotFound(f"memory state version {version} of agent execution", execution_id)
    return state


def steps_of(state: MemoryState | None) -> list[dict[str, Any]]:
    steps = state.state.get("steps") if state is not None else None
    return [step for step in steps if isinstance(step, dict)] if isinstance(steps, list) else []


async def live_tail(
    session: AsyncSession, *, principal: Principal, execution_id: str
) -> dict[str, Any]:
    execution = await get_execution(session, principal=principal, execution_id=execution_id)
    latest = await latest_state(session, execution.agent_execution_id)
    total = await session.scalar(
        select(func.count()).where(MemoryState.agent_execution_id == execution.agent_execution_id)
    )
    return {
        "execution": execution,
        "latest_memory_state": latest,
        "steps": steps_of(latest),
        "total_versions": int(total or 0),
    }
