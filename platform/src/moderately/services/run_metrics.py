"""Run metrics of agents and pipelines: one grouped query for a
page of owners, never one per row.

`totalRuns` = executions of any version, `successfulRuns` = those `completed`, `successRate` =
successful / total x 100 (0 without runs), `lastRunAt` = the latest of `last_column`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from moderately.timeutil import as_utc

__all__ = ["NO_RUNS", "RunMetrics", "run_metrics"]


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
    status: InstrumentedAttribute[str],
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
            func.sum(case((status == "completed", 1), else_=0)),
            func.max(last),
        )
        .where(owner.in_(ids))
        .group_by(owner)
    )
    return {
        key: RunMetrics(_as_utc(latest), int(total), int(completed or 0))
        for key, total, completed, latest in rows.all()
    }
