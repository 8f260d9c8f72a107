"""API tokens as credentials, and the principal a request acts as."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import ApiToken, TeamUser
from moderately.errors import Forbidden, Unauthorized
from moderately.ids import new_id
from moderately.timeutil import utcnow

TOKEN_PREFIX = "mai_"
TOKEN_SECRET_LENGTH = 40
# Shown in listings so a person can recognise a token: "mai_" plus 4 secret characters.
DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 4

ROLES = ("admin", "member", "readonly")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + new_id(TOKEN_SECRET_LENGTH)


@dataclass(frozen=True)
class RequestFacts:
    """What the audit log records about the request a change came from."""

    request_id: str | None
    ip_address: str | None
    user_agent: str | None


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's user, acting with the token's role, across the user's teams."""

    user_id: str
    token_id: str
    token_team_id: str
    token_role: str
    memberships: Mapping[str, str]  # team_id -> membership role

    @property
    def team_ids(self) -> frozenset[str]:
        return frozenset(self.memberships)

    def require_write(self) -> None:
        if self.token_role == "readonly":
            raise Forbidden("this API token is read-only")

    def require_admin(self, team_id: str) -> None:
        """Admin-only operations need the admin role in that team's membership."""
        self.require_write()
        if self.memberships.get(team_id) != "admin":
            raise Forbidden("this operation needs the admin role in the team")

    def require_can_grant(self, role: str) -> None:
        """A token never mints a token stronger than itself (readonly < member < admin)."""
        if ROLES.index(role) < ROLES.index(self.token_role):
            raise Forbidden(f"a {self.token_role} token cannot create a token with role {role}")


async def authenticate(session: AsyncSession, *, token: str | None) -> Principal:
    if not token:
        raise Unauthorized("missing bearer token")
    # One round trip: the token and every membership of its user.
    rows = (
        await session.execute(
            select(ApiToken, TeamUser.team_id, TeamUser.role)
            .outerjoin(TeamUser, TeamUser.user_id == ApiToken.created_by_user_id)
            .where(ApiToken.token_hash == hash_token(token))
        )
    ).all()
    if not rows:
        raise Unauthorized("invalid API token")
    row = rows[0][0]
    if not row.is_active:
        raise Unauthorized("this API token is inactive")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise Unauthorized("this API token has expired")
    memberships = {team_id: role for _, team_id, role in rows if team_id is not None}
    # A token speaks for its user inside its team; once the user leaves the team it stops working.
    if row.team_id not in memberships:
        raise Unauthorized("this API token's user is no longer a member of its team")
    return Principal(
        user_id=row.created_by_user_id,
        token_id=row.token_id,
        token_team_id=row.team_id,
        token_role=row.role,
        memberships=memberships,
    )
