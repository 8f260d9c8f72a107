"""Agents: plain team-owned records for now; names are unique within a team."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import Agent
from moderately.errors import NotFound
from moderately.ids import is_plausible_id
from moderately.services.auth import Principal
from moderately.services.paging import Page, PageParams, like_pattern, paginate
from moderately.services.scope import (
    ensure_unique_name,
    rename,
    scoped,
    team_for_create,
    teams_to_show,
)

SORT = {"name": Agent.name, "createdAt": Agent.created_at, "updatedAt": Agent.updated_at}


async def list_agents(
    session: AsyncSession,
    *,
    principal: Principal,
    params: PageParams,
    team_ids: Sequence[str] = (),
    agent_ids: Sequence[str] = (),
    name_like: str | None = None,
) -> Page[Agent]:
    stmt = select(Agent).where(Agent.team_id.in_(teams_to_show(principal, team_ids)))
    if agent_ids:
        stmt = stmt.where(Agent.agent_id.in_(agent_ids))
    if name_like:
        stmt = stmt.where(Agent.name.ilike(like_pattern(name_like), escape="\\"))
    return await paginate(session, stmt, params=params, sort_columns=SORT, id_column=Agent.agent_id)


async def get_agent(session: AsyncSession, *, principal: Principal, agent_id: str) -> Agent:
    agent = None
    if is_plausible_id(agent_id):
        agent = await session.scalar(
            scoped(select(Agent).where(Agent.agent_id == agent_id), Agent.team_id, principal)
        )
    if agent is None:
        raise NotFound("agent", agent_id)
    return agent


async def create_agent(
    session: AsyncSession,
    *,
    principal: Principal,
    name: str,
    description: str | None = None,
    team_id: str | None = None,
    request_team_ids: Sequence[str] = (),
) -> Agent:
    principal.require_write()
    team_id = team_for_create(principal, team_id=team_id, request_team_ids=request_team_ids)
    await ensure_unique_name(session, Agent.agent_id, what="an agent", team_id=team_id, name=name)
    agent = Agent(team_id=team_id, name=name, description=description)
    session.add(agent)
    await session.flush()
    return agent


async def update_agent(
    session: AsyncSession, *, principal: Principal, agent_id: str, changes: dict[str, object]
) -> Agent:
    agent = await get_agent(session, principal=principal, agent_id=agent_id)
    principal.require_write()
    await rename(session, agent, Agent.agent_id, changes.get("name"), what="an agent")
    if "description" in changes:
        agent.description = changes["description"]  # type: ignore[assignment]
    await session.flush()
    return agent


async def delete_agent(session: AsyncSession, *, principal: Principal, agent_id: str) -> None:
    agent = await get_agent(session, principal=principal, agent_id=agent_id)
    principal.require_write()
    await session.delete(agent)
    await session.flush()
