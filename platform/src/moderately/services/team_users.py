"""Memberships: visible to the team's members, changed by its admins; a team keeps an admin."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.dialect import for_update
from moderately.db.models import Team, TeamUser, User
from moderately.errors import Conflict, InvalidState
from moderately.services.auth import Principal
from moderately.services.filters import ListFilters, Values, filtered, like, one_of
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.scope import get_scoped

SORT = {
    "name": User.full_name,
    "role": TeamUser.role,
    "createdAt": TeamUser.created_at,
    "updatedAt": TeamUser.updated_at,
}


class TeamUserFilters(ListFilters):
    team_column = TeamUser.team_id
    team_user_ids: Annotated[Values, Field(alias="teamUserIds"), one_of(TeamUser.team_user_id)] = (
        None
    )
    user_ids: Annotated[Values, Field(alias="userIds"), one_of(TeamUser.user_id)] = None
    roles: Annotated[Values, one_of(TeamUser.role)] = None
    name_like: Annotated[str | None, Field(alias="nameLike"), like(User.full_name)] = None
    email_like: Annotated[str | None, Field(alias="emailLike"), like(User.email)] = None


async def list_team_users(
    session: AsyncSession, *, principal: Principal, params: PageParams, filters: TeamUserFilters
) -> Page[TeamUser]:
    stmt = select(TeamUser).join(User, User.user_id == TeamUser.user_id)
    stmt = filtered(stmt, filters, principal)
    return await paginate(
        session, stmt, params=params, sort_columns=SORT, id_column=TeamUser.team_user_id
    )


async def get_team_user(
    session: AsyncSession, *, principal: Principal, team_user_id: str
) -> TeamUser:
    return await get_scoped(session, TeamUser, team_user_id, principal)


async def _keep_an_admin(session: AsyncSession, member: TeamUser, message: str, **kw: Any) -> None:
    """400 when `member` is its team's last admin. The team's row is locked first (PostgreSQL;
    SQLite write sessions hold the database's write lock already), so two admins demoting or
    removing each other at once are serialised and the second sees one admin left."""
    await session.execute(for_update(select(Team.team_id).where(Team.team_id == member.team_id)))
    await session.refresh(member)  # as it is now, not as read before the lock
    count = await session.scalar(
        select(func.count()).where(TeamUser.team_id == member.team_id, TeamUser.role == "admin")
    )
    if member.role == "admin" and int(count or 0) <= 1:
        raise InvalidState(message, **kw)


async def update_team_user(
    session: AsyncSession, *, principal: Principal, team_user_id: str, changes: dict[str, object]
) -> TeamUser:
    member = await get_team_user(session, principal=principal, team_user_id=team_user_id)
    role = changes.get("role")
    # Members may choose their own default team; anything else is for the team's admins.
    if role is None and member.user_id == principal.user_id:
        principal.require_write()
    else:
        principal.require_admin(member.team_id)
    if role is not None and role != member.role:
        await _keep_an_admin(session, member, "a team needs at least one admin", field="role")
        member.role = str(role)
    if changes.get("is_default") is not None:
        await set_default(session, member=member, is_default=bool(changes["is_default"]))
    await session.flush()
    await session.refresh(member)
    return member


async def set_default(session: AsyncSession, *, member: TeamUser, is_default: bool) -> None:
    """At most one default team per user."""
    if is_default:
        await session.execute(
            update(TeamUser)
            .where(TeamUser.user_id == member.user_id, TeamUser.team_user_id != member.team_user_id)
            .values(is_default=False)
            .execution_options(synchronize_session="fetch")
        )
    member.is_default = is_default


async def delete_team_user(
    session: AsyncSession, *, principal: Principal, team_user_id: str
) -> None:
    member = await get_team_user(session, principal=principal, team_user_id=team_user_id)
    principal.require_admin(member.team_id)
    await _keep_an_admin(
        session, member, "cannot remove the last admin of a team", field="teamUserId"
    )
    await session.delete(member)
    await session.flush()


async def add_member(session: AsyncSession, *, team_id: str, user_id: str, role: str) -> TeamUser:
    """Operator only: put a user into a team."""
    existing = await session.scalar(
        select(TeamUser).where(TeamUser.team_id == team_id, TeamUser.user_id == user_id)
    )
    if existing is not None:
        raise Conflict("the user is already a member of this team")
    has_default = await session.scalar(
        select(TeamUser.team_user_id).where(
            TeamUser.user_id == user_id, TeamUser.is_default.is_(True)
        )
    )
    member = TeamUser(team_id=team_id, user_id=user_id, role=role, is_default=has_default is None)
    session.add(member)
    await session.flush()
    await session.refresh(member)
    return member
