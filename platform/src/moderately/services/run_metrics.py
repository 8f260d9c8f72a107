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

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from moderately.statuses import ExecutionStatus
from moderately.timeutil import as_utc

__all__ = ["NO_RUNS", "MeteredView", "RunMetrics", "run_metrics", "with_run_metrics"]

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


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite aggregates come back as text
        value = datetime.fromisoformat(value)
    return as_utc(value)


async def run_metrics(
    session: AsyncSession,
    *,
    owner: InstrumentedAttribute[str],
    status: InstrumentedAttribute[ExecutionStatus],
    last: InstrumentedAttribute[Any],
    ids: Sequence[str],
) -> dict[str, RunMetrics]:
    """Metrics of the executions whose `owner` column is one of `ids` (absent: no runs)."""
    if not ids:
        return {}
    rows = await session.execute(
        select(
            owner,
            func.count(),
            func.sum(case((status == ExecutionStatus.COMPLETED, 1), else_=0)),
            func.max(last),
        )
        .where(owner.in_(ids))
        .group_by(owner)
    )
    return {
        key: RunMetrics(_as_utc(latest), int(total), int(completed or 0))
        for key, total, completed, latest in rows.all()
    }


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
    session: AsyncSession,
    rows: Sequence[Any],
    view: Callable[..., V],
    *,
    owner: InstrumentedAttribute[str],
    status: InstrumentedAttribute[ExecutionStatus],
    last: InstrumentedAttribute[Any],
) -> list[V]:
    """`rows` as `view`s with the metrics of their executions; `owner` is the executions'
    column that holds a row's id, named as the row's own id field (e.g. `agent_id`)."""
    key = owner.key
    metrics = await run_metrics(
        session, owner=owner, status=status, last=last, ids=[getattr(r, key) for r in rows]
    )
    return [
        view(
            **{key: getattr(r, key)},
            team_id=r.team_id,
            name=r.name,
            description=r.description,
            created_at=r.created_at,
            updated_at=r.updated_at,
            **metrics.get(getattr(r, key), NO_RUNS).as_fields(),
        )
        for r in rows
    ]
