"""Team scoping, in one place: every query of a team-owned resource goes through here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from moderately.errors import Forbidden
from moderately.services.auth import Principal

S = TypeVar("S", bound=Select[Any])


def check_requested_teams(principal: Principal, team_ids: Iterable[str]) -> frozenset[str]:
    """`teamIds` may only name the caller's teams: a foreign one is refused, never answered."""
    requested = frozenset(team_ids)
    foreign = requested - principal.team_ids
    if foreign:
        raise Forbidden("teamIds names a team you are not a member of")
    return requested


def teams_to_show(principal: Principal, team_ids: Iterable[str]) -> frozenset[str]:
    """The teams a list may show: the caller's teams, narrowed by `teamIds` when given."""
    return check_requested_teams(principal, team_ids) or principal.team_ids


def scoped(stmt: S, team_column: InstrumentedAttribute[str], principal: Principal) -> S:
    """Restrict a query to the caller's teams, so another team's row is simply not found."""
    return stmt.where(team_column.in_(principal.team_ids))
