"""Teams: visible to their members; changed and deleted by their admins."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import PipelineExecution, Team, TeamUser
from moderately.services import object_removals, pipelines
from moderately.services.auth import Principal
from moderately.services.filters import ListFilters, equal, filtered
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.scope import get_scoped
from moderately.services.transfers import Storage

SORT = {"createdAt": Team.created_at, "updatedAt": Team.updated_at, "name": Team.name}


class TeamFilters(ListFilters):
    team_column = Team.team_id
    name: Annotated[str | None, Field(description="exact name"), equal(Team.name)] = None


async def list_teams(
    session: AsyncSession, *, principal: Principal, params: PageParams, filters: TeamFilters
) -> Page[Team]:
    stmt = filtered(select(Team), filters, principal)
    return await paginate(session, stmt, params=params, sort_columns=SORT, id_column=Team.team_id)


async def get_team(session: AsyncSession, *, principal: Principal, team_id: str) -> Team:
    return await get_scoped(session, Team, team_id, principal)


async def add_team(
    session: AsyncSession, *, name: str, description: str | None, admin_user_id: str
) -> Team:
    """Create a team with one admin member (the API caller, or a user the operator names)."""
    team = Team(name=name, description=description)
    session.add(team)
    await session.flush()
    has_default = await session.scalar(
        select(TeamUser.team_user_id).where(
            TeamUser.user_id == admin_user_id, TeamUser.is_default.is_(True)
        )
    )
    session.add(
        TeamUser(
            team_id=team.team_id,
            user_id=admin_user_id,
            role="admin",
            is_default=has_default is None,
        )
    )
    await session.flush()
    return team


async def create_team(
    session: AsyncSession, *, principal: Principal, name: str, description: str | None = None
) -> Team:
    principal.require_write()
    return await add_team(
        session, name=name, description=description, admin_user_id=principal.user_id
    )


async def update_team(
    session: AsyncSession,
    *,
    principal: Principal,
    team_id: str,
    changes: dict[str, object],
) -> Team:
    team = await get_team(session, principal=principal, team_id=team_id)
    principal.require_admin(team.team_id)
    for field in ("name", "description"):
        if field in changes:
            setattr(team, field, changes[field])
    await session.flush()
    return team


async def delete_team(
    session: AsyncSession, *, principal: Principal, storage: Storage, team_id: str
) -> None:
    """Deletes the team and, through ON DELETE CASCADE, everything the team owns; once that
    committed, its objects go too: everything under `teams/<teamId>/` (files, dataset data)
    and what its pipeline executions stored (services/object_removals.py)."""
    team = await get_team(session, principal=principal, team_id=team_id)
    principal.require_admin(team.team_id)
    targets = [f"teams/{team.team_id}/"]
    targets += await pipelines.execution_objects(session, PipelineExecution.team_id == team.team_id)
    await session.execute(delete(Team).where(Team.team_id == team.team_id))
    session.expunge(team)
    await object_removals.schedule(session, targets)
    await object_removals.remove_after_commit(session, storage)
