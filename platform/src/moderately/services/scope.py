"""Team scoping, in one place: every query of a team-owned resource goes through here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from moderately.db.dialect import for_update
from moderately.errors import Conflict, Forbidden, Invalid, NotFound
from moderately.ids import is_plausible_id
from moderately.services.auth import Principal

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


# The 404's noun where the table's name (singular, words spaced) does not say it as the API does.
_KIND_NAMES = {
    "api_tokens": "API token",
    "dataset_data_versions": "data version",
    "dataset_schema_versions": "schema version",
}


def resource_kind(model: type[Any]) -> str:
    """What a 404 calls a row of `model`: "agent", "pipeline configuration version", ..."""
    table: str = model.__tablename__
    return _KIND_NAMES.get(table) or table.removesuffix("s").replace("_", " ")


def _primary_key(model: type[Any]) -> ColumnElement[str]:
    (column,) = inspect(model).primary_key
    return column


async def _by_id(
    session: AsyncSession, model: type[M], row_id: str, team_ids: Iterable[str], lock: bool
) -> M | None:
    if not is_plausible_id(row_id):
        return None  # a value that cannot be an id is not looked up
    team_column = cast(Any, model).team_id
    stmt = select(model).where(_primary_key(model) == row_id, team_column.in_(team_ids))
    row: M | None = await session.scalar(for_update(stmt) if lock else stmt)
    return row


async def get_scoped(
    session: AsyncSession, model: type[M], row_id: str, principal: Principal, *, lock: bool = False
) -> M:
    """The row of `model` with primary key `row_id` in the caller's team, locked when asked;
    else 404 naming its kind and `row_id` ("agent <id> not found"), another team's row
    included."""
    row = await _by_id(session, model, row_id, principal.team_ids, lock)
    if row is None:
        raise NotFound(resource_kind(model), row_id)
    return row


async def get_in_team(
    session: AsyncSession, model: type[M], row_id: str, team_id: str, *, lock: bool = False
) -> M | None:
    """The row of `model` with primary key `row_id` in `team_id`, or None: for jobs and the
    runs' hosts, which act for a team rather than a caller and answer a missing row their own
    way."""
    return await _by_id(session, model, row_id, (team_id,), lock)


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
