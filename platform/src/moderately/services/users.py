"""Users: a caller sees itself and the members of its teams, and edits only itself."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import Team, TeamUser, User
from moderately.errors import Conflict, Forbidden, Invalid, NotFound
from moderately.ids import is_plausible_id
from moderately.services.auth import Principal
from moderately.services.paging import Page, PageParams, like_pattern, paginate
from moderately.services.scope import teams_to_show

SORT = {"createdAt": User.created_at, "fullName": User.full_name}
TEAM_SORT = {"createdAt": Team.created_at, "updatedAt": Team.updated_at, "name": Team.name}


def _member_of(team_ids: frozenset[str]) -> Select[str]:
    return select(TeamUser.user_id).where(TeamUser.team_id.in_(team_ids))


async def list_users(
    session: AsyncSession,
    *,
    principal: Principal,
    params: PageParams,
    user_ids: Sequence[str] = (),
    user_emails: Sequence[str] = (),
    team_ids: Sequence[str] = (),
    full_name_like: str | None = None,
    nickname_like: str | None = None,
) -> Page[User]:
    stmt = select(User).where(User.user_id.in_(_member_of(teams_to_show(principal, team_ids))))
    if user_ids:
        stmt = stmt.where(User.user_id.in_(user_ids))
    if user_emails:
        stmt = stmt.where(func.lower(User.email).in_([e.lower() for e in user_emails]))
    if full_name_like:
        stmt = stmt.where(User.full_name.ilike(like_pattern(full_name_like), escape="\\"))
    if nickname_like:
        stmt = stmt.where(User.nickname.ilike(like_pattern(nickname_like), escape="\\"))
    return await paginate(session, stmt, params=params, sort_columns=SORT, id_column=User.user_id)


async def get_user(session: AsyncSession, *, principal: Principal, user_id: str) -> User:
    user = None
    if is_plausible_id(user_id):
        user = await session.scalar(
            select(User).where(
                User.user_id == user_id, User.user_id.in_(_member_of(principal.team_ids))
            )
        )
    if user is None:
        raise NotFound("user", user_id)
    return user


async def update_user(
    session: AsyncSession, *, principal: Principal, user_id: str, changes: dict[str, object]
) -> User:
    user = await get_user(session, principal=principal, user_id=user_id)
    principal.require_write()
    if user.user_id != principal.user_id:
        raise Forbidden("you can only update your own profile")
    for field in ("full_name", "nickname"):
        if field in changes:
            setattr(user, field, changes[field])
    await session.flush()
    return user


async def list_user_teams(
    session: AsyncSession, *, principal: Principal, user_id: str, params: PageParams
) -> Page[Team]:
    """The user's teams, limited to teams the caller shares (never reveals other teams)."""
    user = await get_user(session, principal=principal, user_id=user_id)
    stmt = select(Team).where(
        Team.team_id.in_(principal.team_ids),
        exists().where(TeamUser.team_id == Team.team_id, TeamUser.user_id == user.user_id),
    )
    return await paginate(
        session, stmt, params=params, sort_columns=TEAM_SORT, id_column=Team.team_id
    )


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or not domain or " " in email:
        raise Invalid("not a valid email address", field="email", value=email)
    return email


async def add_user(session: AsyncSession, *, email: str, full_name: str | None = None) -> User:
    """Operator only (the API has no sign-up)."""
    email = normalise_email(email)
    if await session.scalar(select(User.user_id).where(User.email == email)) is not None:
        raise Conflict(f"a user with email {email} already exists")
    user = User(email=email, full_name=full_name or email.split("@")[0])
    session.add(user)
    await session.flush()
    return user
