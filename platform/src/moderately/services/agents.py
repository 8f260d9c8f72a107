"""Agents: names unique within a team (409); every new agent
gets a default configuration version 1 (services/agent_configurations.py); list and get carry
their run metrics (services/run_metrics.py), computed per page in one query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.config import Settings
from moderately.db.models import Agent, AgentExecution
from moderately.ids import new_id
from moderately.services.agent_configurations import add_default_version
from moderately.services.auth import Principal
from moderately.services.filters import ListFilters, Values, filtered, like, one_of
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.run_metrics import (
    MeteredView,
    Runs,
    get_metered,
    new_metered,
    with_run_metrics,
)
from moderately.services.scope import (
    ensure_unique_name,
    get_scoped,
    rename,
    team_for_create,
)

SORT = {"name": Agent.name, "createdAt": Agent.created_at, "updatedAt": Agent.updated_at}


@dataclass(frozen=True)
class AgentView(MeteredView):
    """An agent with its run metrics (the wire's Agent)."""

    agent_id: str


# Where an agent's runs are: its executions, by agent, status and start.
_RUNS = Runs(
    owner=AgentExecution.agent_id, status=AgentExecution.status, last=AgentExecution.started_at
)


async def with_metrics(session: AsyncSession, agents: Sequence[Agent]) -> list[AgentView]:
    return await with_run_metrics(session, agents, AgentView, _RUNS)


class AgentFilters(ListFilters):
    team_column = Agent.team_id
    agent_ids: Annotated[Values, Field(alias="agentIds"), one_of(Agent.agent_id)] = None
    name_like: Annotated[str | None, Field(alias="nameLike"), like(Agent.name)] = None


async def list_agents(
    session: AsyncSession, *, principal: Principal, params: PageParams, filters: AgentFilters
) -> Page[AgentView]:
    stmt = filtered(select(Agent), filters, principal)
    page = await paginate(session, stmt, params=params, sort_columns=SORT, id_column=Agent.agent_id)
    return replace(page, items=await with_metrics(session, page.items))


async def get_agent(session: AsyncSession, *, principal: Principal, agent_id: str) -> AgentView:
    return await get_metered(session, Agent, agent_id, principal, AgentView, _RUNS)


async def create_agent(
    session: AsyncSession,
    *,
    principal: Principal,
    settings: Settings,
    name: str,
    description: str | None = None,
    team_id: str | None = None,
    request_team_ids: Sequence[str] = (),
) -> AgentView:
    principal.require_write()
    team_id = team_for_create(principal, team_id=team_id, request_team_ids=request_team_ids)
    await ensure_unique_name(session, Agent.agent_id, what="an agent", team_id=team_id, name=name)
    # The id is set here so the first version can name it: both go in one flush.
    agent = Agent(agent_id=new_id(), team_id=team_id, name=name, description=description)
    session.add(agent)
    add_default_version(session, agent, settings)
    await session.flush()
    return new_metered(agent, AgentView, _RUNS)


async def update_agent(
    session: AsyncSession, *, principal: Principal, agent_id: str, changes: dict[str, object]
) -> AgentView:
    agent = await get_scoped(session, Agent, agent_id, principal)
    principal.require_write()
    await rename(session, agent, Agent.agent_id, changes.get("name"), what="an agent")
    if "description" in changes:
        agent.description = changes["description"]  # type: ignore[assignment]
    await session.flush()
    await session.refresh(agent)
    return (await with_metrics(session, [agent]))[0]


async def delete_agent(session: AsyncSession, *, principal: Principal, agent_id: str) -> None:
    """The agent, its configuration versions, executions and memory states (ON DELETE
    CASCADE); a running execution's job sees its row gone and stops."""
    agent = await get_scoped(session, Agent, agent_id, principal)
    principal.require_write()
    await session.delete(agent)
    await session.flush()
