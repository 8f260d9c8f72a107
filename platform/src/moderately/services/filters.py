"""List filters, declared once per list: a pydantic model whose fields are the list's query
parameters (wire name, description and type; FastAPI reads the query string into it) and say
which column they narrow and how (`one_of`, `like`, `equal`, `present`, `at_or_after`,
`at_or_before`). `filtered` applies one to a select, the team scoping included, so no list
repeats either."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select

from moderately.services.auth import Principal
from moderately.services.paging import like_pattern, split_values
from moderately.services.scope import teams_to_show

S = TypeVar("S", bound=Select[Any])

# A multi-value filter: repeated keys, comma lists, or both.
Values = Annotated[list[str] | None, AfterValidator(split_values)]
TEAM_IDS = "Limit to these teams (repeated keys or a comma list)."


# eq=False: a match holds SQL columns, whose == builds an expression instead of comparing.
@dataclass(frozen=True, eq=False)
class Match:
    """How a filter narrows a select once it is given (`given(value)`)."""

    clause: Callable[[Any], ColumnElement[bool]]
    given: Callable[[Any], bool]


def _not_none(value: object) -> bool:
    return value is not None


def one_of(column: Any, convert: Callable[[list[Any]], Sequence[Any]] = list) -> Match:
    """Any of the listed values (after `convert`); an empty list does not filter."""
    return Match(lambda values: column.in_(convert(values)), given=bool)


def like(column: Any) -> Match:
    """A case-insensitive substring (% and _ match themselves); an empty text does not filter."""
    return Match(lambda text: column.ilike(like_pattern(text), escape="\\"), given=bool)


def equal(column: Any, convert: Callable[[Any], Any] = lambda value: value) -> Match:
    """Exactly the value (after `convert`)."""
    return Match(lambda value: column == convert(value), given=_not_none)


def present(column: Any) -> Match:
    """true: the column has a value; false: it has none."""
    return Match(lambda yes: column.is_not(None) if yes else column.is_(None), given=_not_none)


def at_or_after(column: Any) -> Match:
    """The start of a range, inclusive."""
    return Match(lambda start: column >= start, given=_not_none)


def at_or_before(column: Any) -> Match:
    """The end of a range, inclusive."""
    return Match(lambda end: column <= end, given=_not_none)


class ScopedFilters(BaseModel):
    """The filters of a list of team-owned rows: a subclass says which teams it shows
    (`teams`) and names the rows' `team_column` (or says otherwise how a row belongs to them:
    `in_teams`), and adds its fields, each with its Match in the field's metadata."""

    # Paging keys and anything unknown are not filters (and 0.2.7 sends extra keys).
    model_config = ConfigDict(extra="ignore", frozen=True)

    team_column: ClassVar[Any]

    def teams(self, principal: Principal) -> frozenset[str]:
        raise NotImplementedError

    def in_teams(self, teams: frozenset[str]) -> ColumnElement[bool]:
        # Read on the class: a mapped column is a descriptor of its model, not of this one.
        column = type(self).team_column
        clause: ColumnElement[bool] = column.in_(teams)
        return clause


class ListFilters(ScopedFilters):
    """Most lists: the caller's teams, narrowed by `teamIds`."""

    team_ids: Annotated[Values, Field(alias="teamIds", description=TEAM_IDS)] = None

    def teams(self, principal: Principal) -> frozenset[str]:
        return teams_to_show(principal, self.team_ids or ())


def filtered(stmt: S, filters: ScopedFilters, principal: Principal) -> S:
    """`stmt` limited to the teams the list shows and narrowed by every given filter."""
    stmt = stmt.where(filters.in_teams(filters.teams(principal)))
    for name, field in type(filters).model_fields.items():
        value = getattr(filters, name)
        for match in field.metadata:
            if isinstance(match, Match) and match.given(value):
                stmt = stmt.where(match.clause(value))
    return stmt
