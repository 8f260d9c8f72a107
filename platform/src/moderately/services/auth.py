"""API tokens as credentials, and the principal a request acts as."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import ApiToken, TeamUser
from moderately.errors import Forbidden, Unauthorized
from moderately.ids import new_id
from moderately.services.token_cache import TokenCache, current_generation
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


# What each role may do grows with its rank; a token's role caps its user's membership role.
ROLE_RANK = {"readonly": 0, "member": 1, "admin": 2}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's user, in the token's team only (tokens are
    team-bound), with the weaker of the token's role and the user's role in that team."""

    user_id: str
    token_id: str
    team_id: str
    token_role: str
    member_role: str
    # The (team, role) checks this request passed, in order: an idempotent replay runs them
    # again, and the audit log records an admin token's use.
    checks: list[tuple[str, str]] = field(default_factory=list, compare=False)

    @property
    def team_ids(self) -> frozenset[str]:
        """The teams this request may see or change: the token's team."""
        return frozenset((self.team_id,))

    @property
    def role(self) -> str:
        """The effective role: readonly < member < admin, the lower of token and membership."""
        return min(self.token_role, self.member_role, key=ROLE_RANK.__getitem__)

    def require_role(self, role: str, team_id: str | None = None) -> None:
        """403 unless this request may act with `role` in `team_id` (default: the token's team),
        naming what is missing."""
        team_id = self.team_id if team_id is None else team_id
        self.checks.append((team_id, role))
        if team_id != self.team_id:
            raise Forbidden(
                f"this API token belongs to team {self.team_id} and cannot act in another team"
            )
        if ROLE_RANK[self.token_role] < ROLE_RANK[role]:
            raise Forbidden(
                f"this operation needs the {role} role; this API token's role is {self.token_role}"
            )
        if ROLE_RANK[self.member_role] < ROLE_RANK[role]:
            raise Forbidden(
                f"this operation needs the {role} role in the team; "
                f"your role there is {self.member_role}"
            )

    def require_write(self, team_id: str | None = None) -> None:
        self.require_role("member", team_id)

    def require_admin(self, team_id: str | None = None) -> None:
        """Admin-only operations need an admin token of an admin member of the team."""
        self.require_role("admin", team_id)

    def require_can_grant(self, role: str) -> None:
        """A token never mints a token stronger than the role it acts with."""
        if ROLE_RANK[role] > ROLE_RANK[self.role]:
            raise Forbidden(f"a {self.role} caller cannot create a token with role {role}")


async def authenticate(
    session: AsyncSession, *, token: str | None, cache: TokenCache | None = None
) -> Principal:
    """The principal `token` acts as, from `cache` when it holds a fresh one (then without a
    database round trip), else from the database (and then remembered in `cache`)."""
    if not token:
        raise Unauthorized("missing bearer token")
    token_hash = hash_token(token)
    if cache is not None and (cached := cache.get(token_hash)) is not None:
        return cached
    # One round trip: the token, its user's membership of the token's team, and the counter
    # that revocations move (services/token_cache.py), read together.
    found = (
        await session.execute(
            select(ApiToken, TeamUser.role, current_generation())
            .outerjoin(
                TeamUser,
                (TeamUser.user_id == ApiToken.created_by_user_id)
                & (TeamUser.team_id == ApiToken.team_id),
            )
            .where(ApiToken.token_hash == token_hash)
        )
    ).first()
    if found is None:
        raise Unauthorized("invalid API token")
    row, member_role, generation = found
    if not row.is_active:
        raise Unauthorized("this API token is inactive")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise Unauthorized("this API token has expired")
    # A token speaks for its user inside its team; once the user leaves the team it stops working.
    if member_role is None:
        raise Unauthorized("this API token's user is no longer a member of its team")
    principal = Principal(
        user_id=row.created_by_user_id,
        token_id=row.token_id,
        team_id=row.team_id,
        token_role=row.role,
        member_role=member_role,
    )
    if cache is not None:
        cache.put(token_hash, principal, expires_at=row.expires_at, generation=int(generation or 0))
    return principal
