"""Users: a caller sees itself and the members of its teams, and edits only itself."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import Team, TeamUser, User
from moderately.errors import Conflict, Forbidden, Invalid, NotFound
from moderately.ids import is_plausible_id
from moderately.services.auth import Principal
from moderately.services.filters import ListFilters, Values, filtered, like, one_of
from moderately.services.paging import Page, PageParams, paginate

SORT = {"createdAt": User.created_at, "fullName": User.full_name}
TEAM_SORT = {"createdAt": Team.created_at, "updatedAt": Team.updated_at, "name": Team.name}


def _member_of(team_ids: frozenset[str]) -> Select[str]:
    return select(TeamUser.user_id).where(TeamUser.team_id.in_(team_ids))


def _lowered(emails: list[str]) -> list[str]:
    return [email.lower() for email in emails]


class UserFilters(ListFilters):
    user_ids: Annotated[Values, Field(alias="userIds"), one_of(User.user_id)] = None
    user_emails: Annotated[
        Values, Field(alias="userEmails"), one_of(func.lower(User.email), _lowered)
    ] = None
    full_name_like: Annotated[str | None, Field(alias="fullNameLike"), like(User.full_name)] = None
    nickname_like: Annotated[str | None, Field(alias="nicknameLike"), like(User.nickname)] = None

    def in_teams(self, teams: frozenset[str]) -> ColumnElement[bool]:
        # A user belongs to no team of its own: the members of the teams shown.
        return User.user_id.in_(_member_of(teams))


async def list_users(
    session: AsyncSession, *, principal: Principal, params: PageParams, filters: UserFilters
) -> Page[User]:
    stmt = filtered(select(User), filters, principal)
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
