"""API tokens: listed by the team's members, managed by its admins, secret shown once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import ApiToken, User
from moderately.errors import Invalid
from moderately.services import usage
from moderately.services.auth import (
    DISPLAY_PREFIX_LENGTH,
    ROLES,
    Principal,
    generate_token,
    hash_token,
)
from moderately.services.filters import ListFilters, Values, filtered, one_of
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.scope import get_scoped, team_for_create
from moderately.timeutil import utcnow

SORT = {"createdAt": ApiToken.created_at, "name": ApiToken.name}


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str


@dataclass(frozen=True)
class TokenSummary:
    token: ApiToken
    usage_7_days: int


@dataclass(frozen=True)
class TokenDetail:
    token: ApiToken
    created_by: User | None
    usage_stats: dict[str, int]


async def issue_token(
    session: AsyncSession,
    *,
    team_id: str,
    user_id: str,
    name: str,
    role: str = "member",
    expires_at: datetime | None = None,
) -> CreatedToken:
    """Store a new token's hash; the secret leaves this function once and is never kept."""
    if role not in ROLES:
        raise Invalid(f"role must be one of: {', '.join(ROLES)}", field="role", value=role)
    secret = generate_token()
    token = ApiToken(
        team_id=team_id,
        created_by_user_id=user_id,
        name=name,
        role=role,
        token_hash=hash_token(secret),
        token_prefix=secret[:DISPLAY_PREFIX_LENGTH],
        last4=secret[-4:],
        expires_at=expires_at,
        is_active=True,
    )
    session.add(token)
    await session.flush()
    return CreatedToken(token=token, secret=secret)


async def create_token(
    session: AsyncSession,
    *,
    principal: Principal,
    name: str,
    role: str = "member",
    expires_at: datetime | None = None,
    team_id: str | None = None,
    request_team_ids: Sequence[str] = (),
) -> CreatedToken:
    if role not in ROLES:
        raise Invalid(f"role must be one of: {', '.join(ROLES)}", field="role", value=role)
    team_id = team_for_create(principal, team_id=team_id, request_team_ids=request_team_ids)
    # An expiry in the past is allowed: the token is simply born expired (401 when used).
    principal.require_admin(team_id)
    principal.require_can_grant(role)
    return await issue_token(
        session,
        team_id=team_id,
        user_id=principal.user_id,
        name=name,
        role=role,
        expires_at=expires_at,
    )


class ApiTokenFilters(ListFilters):
    """One team's tokens: `teamId`, else the single `teamIds` value, else the token's team."""

    team_column = ApiToken.team_id
    team_ids: Annotated[
        Values, Field(alias="teamIds", description="Used when teamId is absent (one team).")
    ] = None
    team_id: Annotated[
        str | None,
        Field(alias="teamId", description="Defaults to teamIds, else the token's team."),
    ] = None
    token_ids: Annotated[Values, Field(alias="tokenIds"), one_of(ApiToken.token_id)] = None

    def teams(self, principal: Principal) -> frozenset[str]:
        request_team_ids = self.team_ids or ()
        return frozenset(
            {team_for_create(principal, team_id=self.team_id, request_team_ids=request_team_ids)}
        )


async def list_tokens(
    session: AsyncSession, *, principal: Principal, params: PageParams, filters: ApiTokenFilters
) -> Page[TokenSummary]:
    stmt = filtered(select(ApiToken), filters, principal)
    page = await paginate(
        session, stmt, params=params, sort_columns=SORT, id_column=ApiToken.token_id
    )
    counts = await usage.request_counts(
        session,
        token_ids=[t.token_id for t in page.items],
        since=utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=7),
    )
    return Page(
        items=[TokenSummary(t, counts.get(t.token_id, 0)) for t in page.items],
        pagination=page.pagination,
    )


async def get_token(session: AsyncSession, *, principal: Principal, token_id: str) -> ApiToken:
    return await get_scoped(session, ApiToken, token_id, principal)


async def get_token_detail(
    session: AsyncSession, *, principal: Principal, token_id: str
) -> TokenDetail:
    token = await get_token(session, principal=principal, token_id=token_id)
    return TokenDetail(
        token=token,
        created_by=await session.get(User, token.created_by_user_id),
        usage_stats=await usage.usage_stats(session, token_id=token.token_id),
    )


async def update_token(
    session: AsyncSession, *, principal: Principal, token_id: str, changes: dict[str, object]
) -> TokenSummary:
    token = await get_token(session, principal=principal, token_id=token_id)
    principal.require_admin(token.team_id)
    if changes.get("name") is not None:
        token.name = str(changes["name"])
    if "expires_at" in changes:
        expires_at = changes["expires_at"]
        assert expires_at is None or isinstance(expires_at, datetime)
        token.expires_at = expires_at
    if changes.get("is_active") is not None:
        token.is_active = bool(changes["is_active"])
    await session.flush()
    counts = await usage.request_counts(
        session,
        token_ids=[token.token_id],
        since=utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=7),
    )
    return TokenSummary(token, counts.get(token.token_id, 0))


async def delete_token(session: AsyncSession, *, principal: Principal, token_id: str) -> None:
    """Takes effect at once: the next request with this token gets 401."""
    token = await get_token(session, principal=principal, token_id=token_id)
    principal.require_admin(token.team_id)
    await session.delete(token)
    await session.flush()


async def token_usage(
    session: AsyncSession,
    *,
    principal: Principal,
    token_id: str,
    start: datetime | None = None,
    end: datetime | None = None,
    endpoint: str | None = None,
    method: str | None = None,
) -> usage.UsageReport:
    token = await get_token(session, principal=principal, token_id=token_id)
    return await usage.usage_report(
        session, token_id=token.token_id, start=start, end=end, endpoint=endpoint, method=method
    )
