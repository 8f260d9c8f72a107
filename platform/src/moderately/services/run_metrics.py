"""Run metrics of agents and pipelines: one grouped query for a
page of owners, never one per row; `with_run_metrics` gives the owners as views that carry them.

`totalRuns` = executions of any version, `successfulRuns` = those `completed`, `successRate` =
successful / total x 100 (0 without runs), `lastRunAt` = the latest of `last_column`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from moderately.errors import NotFound
from moderately.ids import is_plausible_id
from moderately.services.auth import Principal
from moderately.services.scope import resource_kind
from moderately.statuses import ExecutionStatus
from moderately.timeutil import as_utc

__all__ = [
    "NO_RUNS",
    "MeteredView",
    "RunMetrics",
    "Runs",
    "get_metered",
    "new_metered",
    "run_metrics",
    "with_run_metrics",
]

V = TypeVar("V", bound="MeteredView")


@dataclass(frozen=True)
class RunMetrics:
    last_run_at: datetime | None = None
    total_runs: int = 0
    successful_runs: int = 0

    @property
    def success_rate(self) -> float:
        if not self.total_runs:
            return 0.0
        return round(self.successful_runs / self.total_runs * 100, 2)

    def as_fields(self) -> dict[str, Any]:
        return {
            "last_run_at": self.last_run_at,
            "total_runs": self.total_runs,
            "successful_runs": self.successful_runs,
            "success_rate": self.success_rate,
        }


NO_RUNS = RunMetrics()


@dataclass(frozen=True)
class Runs:
    """Where a kind of row's runs are: the executions' column holding the row's id (named as
    the row's own id field, e.g. `agent_id`), their status, and the time that dates a run."""

    owner: InstrumentedAttribute[str]
    status: InstrumentedAttribute[ExecutionStatus]
    last: InstrumentedAttribute[Any]


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite aggregates come back as text
        value = datetime.fromisoformat(value)
    return as_utc(value)


def _aggregates(runs: Runs) -> tuple[Any, Any, Any]:
    """The executions' metrics as columns, in `_metrics`' order."""
    return (
        func.max(runs.last).label("latest_run"),
        func.sum(case((runs.status == ExecutionStatus.COMPLETED, 1), else_=0)).label("completed"),
        # executions joined (a row without runs joins none: 0)
        func.count(runs.status).label("total"),
    )


async def run_metrics(
    session: AsyncSession, runs: Runs, ids: Sequence[str]
) -> dict[str, RunMetrics]:
    """Metrics of the executions whose owner is one of `ids` (absent: no runs)."""
    if not ids:
        return {}
    owner = runs.owner
    rows = await session.execute(
        select(owner, *_aggregates(runs)).where(owner.in_(ids)).group_by(owner)
    )
    return {key: _metrics(*aggregates) for key, *aggregates in rows.all()}


def _metrics(latest: Any, completed: Any, total: Any) -> RunMetrics:
    return RunMetrics(_as_utc(latest), int(total or 0), int(completed or 0))


@dataclass(frozen=True, kw_only=True)
class MeteredView:
    """A named, described row of a team with its run metrics (the wire's Agent and Pipeline);
    a subclass adds the row's id field."""

    team_id: str
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    last_run_at: datetime | None = None
    total_runs: int = 0
    successful_runs: int = 0
    success_rate: float = 0.0


async def with_run_metrics(
    session: AsyncSession, rows: Sequence[Any], view: Callable[..., V], runs: Runs
) -> list[V]:
    """`rows` as `view`s with the metrics of their executions."""
    key = runs.owner.key
    metrics = await run_metrics(session, runs, [getattr(r, key) for r in rows])
    return [_view(r, view, runs, metrics.get(getattr(r, key), NO_RUNS)) for r in rows]


def new_metered(row: Any, view: Callable[..., V], runs: Runs) -> V:
    """A row created in this transaction as `view`: it has no runs yet, so nothing is asked."""
    return _view(row, view, runs, NO_RUNS)


def _view(row: Any, view: Callable[..., V], runs: Runs, metrics: RunMetrics) -> V:
    names = (runs.owner.key, *_VIEW_COLUMNS)
    return view(**{name: getattr(row, name) for name in names}, **metrics.as_fields())


async def get_metered(
    session: AsyncSession,
    model: type[Any],
    row_id: str,
    principal: Principal,
    view: Callable[..., V],
    runs: Runs,
) -> V:
    """One row of `model` in the caller's team as `view`, with its metrics, in one query of
    plain columns (no ORM object is loaded: this is every `GET /agents/{id}`); else 404."""
    if not is_plausible_id(row_id):  # a value that cannot be an id is not looked up
        raise NotFound(resource_kind(model), row_id)
    statement = _METERED.get(model)
    if statement is None:
        statement = _METERED[model] = _metered_statement(model, runs)
    row = (
        await session.execute(statement, {"row_id": row_id, "team_id": principal.team_id})
    ).first()
    if row is None:
        raise NotFound(resource_kind(model), row_id)
    return _view(row, view, runs, _metrics(row.latest_run, row.completed, row.total))


# The columns of a metered row that its view carries besides its id.
_VIEW_COLUMNS = ("team_id", "name", "description", "created_at", "updated_at")
# Built once per model: building and keying the statement cost as much as running it.
_METERED: dict[type[Any], Select[Any]] = {}


def _metered_statement(model: type[Any], runs: Runs) -> Select[Any]:
    table = model.__table__
    key = table.c[runs.owner.key]
    return (
        select(key, *(table.c[name] for name in _VIEW_COLUMNS), *_aggregates(runs))
        .select_from(table.outerjoin(runs.owner.class_, runs.owner == key))
        .where(key == bindparam("row_id"), table.c.team_id == bindparam("team_id"))
        .group_by(key)
    )
