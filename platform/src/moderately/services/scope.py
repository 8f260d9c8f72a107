"""Team scoping, in one place: every query of a team-owned resource goes through here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from moderately.db.dialect import for_update
from moderately.errors import Conflict, Forbidden, Invalid, NotFound
from moderately.ids import is_plausible_id
from moderately.services.auth import Principal

S = TypeVar("S", bound=Select[Any])
M = TypeVar("M")


def check_requested_teams(principal: Principal, team_ids: Iterable[str]) -> frozenset[str]:
    """`teamIds` may only name the token's team: another one is refused, never answered."""
    requested = frozenset(team_ids)
    if requested - principal.team_ids:
        raise Forbidden(
            f"teamIds names a team this API token cannot act in (its team is {principal.team_id})"
        )
    return requested


def teams_to_show(principal: Principal, team_ids: Iterable[str]) -> frozenset[str]:
    """The teams a list may show: the caller's teams, narrowed by `teamIds` when given."""
    return check_requested_teams(principal, team_ids) or principal.team_ids


def scoped(stmt: S, team_column: InstrumentedAttribute[str], principal: Principal) -> S:
    """Restrict a query to the caller's teams, so another team's row is simply not found."""
    return stmt.where(team_column.in_(principal.team_ids))


async def find_in_team(
    session: AsyncSession,
    model: type[M],
    id_column: InstrumentedAttribute[str],
    value: str,
    *,
    principal: Principal,
    what: str,
    lock: bool = False,
) -> M:
    """The row of `model` whose `id_column` is `value`, in one of the caller's teams (by the
    model's `team_id`), locked when asked; else 404 naming `what` ("agent") and `value`. A value
    that cannot be an id is not looked up."""
    row = None
    if is_plausible_id(value):
        stmt = scoped(select(model).where(id_column == value), cast(Any, model).team_id, principal)
        row = await session.scalar(for_update(stmt) if lock else stmt)
    if row is None:
        raise NotFound(what, value)
    return row


def team_for_create(
    principal: Principal, *, team_id: str | None, request_team_ids: Sequence[str]
) -> str:
    """Body `teamId`, else the single `teamIds` query value, else the token's team; 403 for any
    team but the token's."""
    if team_id is None:
        requested = check_requested_teams(principal, request_team_ids)
        if len(requested) > 1:
            raise Invalid("teamId is required when teamIds names several teams", field="teamId")
        team_id = next(iter(requested), principal.team_id)
    if team_id not in principal.team_ids:
        raise Forbidden(
            f"this API token belongs to team {principal.team_id} and cannot act in team {team_id}"
        )
    return team_id


# ---- names unique per team (agents, datasets, pipelines) ----


async def ensure_unique_name(
    session: AsyncSession,
    id_column: InstrumentedAttribute[str],
    *,
    what: str,
    team_id: str,
    name: str,
    exclude_id: str | None = None,
) -> None:
    """409 when another row of `id_column`'s model in `team_id` is named `name`; `what` is the
    article and noun of the message ("an agent")."""
    model: Any = id_column.class_
    stmt = select(id_column).where(model.team_id == team_id, model.name == name)
    if exclude_id is not None:
        stmt = stmt.where(id_column != exclude_id)
    if await session.scalar(stmt) is not None:
        raise Conflict(f"{what} named {name!r} already exists in this team")


async def rename(
    session: AsyncSession,
    row: Any,
    id_column: InstrumentedAttribute[str],
    name: object,
    *,
    what: str,
) -> None:
    """Apply a PATCH's `name` (a str that differs) to `row`, unique within its team (409)."""
    if isinstance(name, str) and name != row.name:
        await ensure_unique_name(
            session,
            id_column,
            what=what,
            team_id=row.team_id,
            name=name,
            exclude_id=getattr(row, id_column.key),
        )
        row.name = name
