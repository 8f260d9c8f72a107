"""What the operator CLI does (the API has no sign-up): first-run bootstrap and new users."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import Team, TeamUser, User
from moderately.errors import NotFound
from moderately.services import team_users, teams, users
from moderately.services.api_tokens import issue_token

BOOTSTRAP_EMAIL = "admin@localhost"


@dataclass(frozen=True)
class IssuedCredentials:
    team_id: str
    user_id: str
    api_key: str


async def bootstrap(session: AsyncSession) -> IssuedCredentials | None:
    """On an empty database: a team, its admin and an admin token. Otherwise nothing."""
    if await session.scalar(select(User.user_id).limit(1)) is not None:
        return None
    return await create_user_with_token(
        session,
        email=BOOTSTRAP_EMAIL,
        full_name="Administrator",
        team_name="Default team",
        token_name="bootstrap",
    )


async def create_user_with_token(
    session: AsyncSession,
    *,
    email: str,
    full_name: str | None = None,
    team_name: str | None = None,
    team_id: str | None = None,
    token_name: str = "operator CLI",
) -> IssuedCredentials:
    """A user in a new team (as its admin) or in an existing team (as a member), plus a token."""
    if team_id is not None and await session.get(Team, team_id) is None:
        raise NotFound("team", team_id)
    user = await users.add_user(session, email=email, full_name=full_name)
    if team_id is None:
        team = await teams.add_team(
            session,
            name=team_name or user.email,
            description=None,
            admin_user_id=user.user_id,
        )
        team_id, role = team.team_id, "admin"
    else:
        await team_users.add_member(session, team_id=team_id, user_id=user.user_id, role="member")
        role = "member"
    created = await issue_token(
        session, team_id=team_id, user_id=user.user_id, name=token_name, role=role
    )
    return IssuedCredentials(team_id=team_id, user_id=user.user_id, api_key=created.secret)


async def create_member_token(
    session: AsyncSession,
    *,
    team_id: str,
    email: str | None = None,
    user_id: str | None = None,
    role: str | None = None,
    token_name: str = "operator CLI",
) -> IssuedCredentials:
    """A token for an existing member of a team, named by email or user id (tokens are
    team-bound: one per team a user works in). The role defaults to the member's role."""
    stmt = select(TeamUser).where(TeamUser.team_id == team_id)
    if email is not None:
        stmt = stmt.join(User, User.user_id == TeamUser.user_id).where(
            User.email == users.normalise_email(email)
        )
    else:
        stmt = stmt.where(TeamUser.user_id == user_id)
    member = await session.scalar(stmt)
    if member is None:
        raise NotFound(f"member {email or user_id} of team", team_id)
    created = await issue_token(
        session,
        team_id=team_id,
        user_id=member.user_id,
        name=token_name,
        role=role or member.role,
    )
    return IssuedCredentials(team_id=team_id, user_id=member.user_id, api_key=created.secret)


async def admin_credentials(session: AsyncSession) -> IssuedCredentials:
    """Bootstrap an empty database, or issue a fresh admin token for the oldest team's admin."""
    created = await bootstrap(session)
    if created is not None:
        return created
    member = await session.scalar(
        select(TeamUser).where(TeamUser.role == "admin").order_by(TeamUser.created_at).limit(1)
    )
    if member is None:
        raise NotFound("admin membership")
    issued = await issue_token(
        session, team_id=member.team_id, user_id=member.user_id, name="test admin", role="admin"
    )
    return IssuedCredentials(team_id=member.team_id, user_id=member.user_id, api_key=issued.secret)
