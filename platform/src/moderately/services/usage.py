"""Per-token request accounting: counted in memory, written to the database in batches.

Each request adds to an in-memory tally keyed by (token, hour, method, route); a background
task writes the tallies every second or so, and readers flush first. Numbers are therefore
exact for this process and at most one flush interval late for other processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import ApiToken, ApiTokenUsage
from moderately.timeutil import utcnow


@dataclass
class _Tally:
    requests: int = 0
    errors: int = 0
    duration_ms: float = 0.0


@dataclass
class UsageRecorder:
    _tallies: dict[tuple[str, datetime, str, str], _Tally] = field(default_factory=dict)
    _last_used: dict[str, datetime] = field(default_factory=dict)

    def record(
        self, *, token_id: str, method: str, endpoint: str, status: int, duration_ms: float
    ) -> None:
        now = utcnow()
        hour = now.replace(minute=0, second=0, microsecond=0)
        tally = self._tallies.setdefault((token_id, hour, method, endpoint[:255]), _Tally())
        tally.requests += 1
        tally.errors += status >= 400
        tally.duration_ms += duration_ms
        self._last_used[token_id] = now

    @property
    def pending(self) -> bool:
        return bool(self._tallies)

    async def flush(self, session: AsyncSession) -> None:
        tallies, self._tallies = self._tallies, {}
        last_used, self._last_used = self._last_used, {}
        if not tallies:
            return
        # Tokens deleted since their requests were counted take their counts with them.
        alive = set(
            await session.scalars(select(ApiToken.token_id).where(ApiToken.token_id.in_(last_used)))
        )
        session.add_all(
            ApiTokenUsage(
                token_id=token_id,
                hour=hour,
                method=method,
                endpoint=endpoint,
                request_count=t.requests,
                error_count=t.errors,
                total_duration_ms=t.duration_ms,
            )
            for (token_id, hour, method, endpoint), t in tallies.items()
            if token_id in alive
        )
        for token_id, at in last_used.items():
            if token_id in alive:
                await session.execute(
                    update(ApiToken)
                    .where(ApiToken.token_id == token_id)
                    .values(last_used_at=at, updated_at=ApiToken.updated_at)
                    .execution_options(synchronize_session=False)
                )
        await session.flush()


async def request_counts(
    session: AsyncSession, *, token_ids: Sequence[str], since: datetime | None = None
) -> dict[str, int]:
    stmt = (
        select(ApiTokenUsage.token_id, func.sum(ApiTokenUsage.request_count))
        .where(ApiTokenUsage.token_id.in_(token_ids))
        .group_by(ApiTokenUsage.token_id)
    )
    if since is not None:
        stmt = stmt.where(ApiTokenUsage.hour >= since)
    return {token_id: int(n or 0) for token_id, n in await session.execute(stmt)}


async def usage_stats(session: AsyncSession, *, token_id: str) -> dict[str, int]:
    """Totals over whole hours: "last 24 hours" counts the 24 hour-buckets before now."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)

    def since(hours: int) -> ColumnElement[Any]:
        return func.sum(
            case(
                (ApiTokenUsage.hour >= now - timedelta(hours=hours), ApiTokenUsage.request_count),
                else_=0,
            )
        )

    row = (
        await session.execute(
            select(
                func.sum(ApiTokenUsage.request_count),
                since(23),
                since(24 * 7 - 1),
                since(24 * 30 - 1),
            ).where(ApiTokenUsage.token_id == token_id)
        )
    ).one()
    total, day, week, month = (int(v or 0) for v in row)
    return {
        "total_requests": total,
        "requests_last24_hours": day,
        "requests_last7_days": week,
        "requests_last30_days": month,
    }


@dataclass(frozen=True)
class UsageReport:
    total_requests: int
    requests_by_endpoint: dict[str, int]
    requests_by_method: dict[str, int]
    average_response_time: float  # milliseconds
    error_rate: float  # percent of requests answered with a 4xx or 5xx


async def usage_report(
    session: AsyncSession,
    *,
    token_id: str,
    start: datetime | None = None,
    end: datetime | None = None,
    endpoint: str | None = None,
    method: str | None = None,
) -> UsageReport:
    stmt = select(
        ApiTokenUsage.method,
        ApiTokenUsage.endpoint,
        func.sum(ApiTokenUsage.request_count),
        func.sum(ApiTokenUsage.error_count),
        func.sum(ApiTokenUsage.total_duration_ms),
    ).where(ApiTokenUsage.token_id == token_id)
    if start is not None:
        # Buckets are hours; include the bucket that contains `start`.
        stmt = stmt.where(ApiTokenUsage.hour > start - timedelta(hours=1))
    if end is not None:
        stmt = stmt.where(ApiTokenUsage.hour <= end)
    if endpoint:
        stmt = stmt.where(ApiTokenUsage.endpoint == endpoint)
    if method:
        stmt = stmt.where(ApiTokenUsage.method == method.upper())
    stmt = stmt.group_by(ApiTokenUsage.method, ApiTokenUsage.endpoint)
    by_endpoint: dict[str, int] = {}
    by_method: dict[str, int] = {}
    total = errors = 0
    duration = 0.0
    for m, e, n, err, ms in await session.execute(stmt):
        n, err = int(n or 0), int(err or 0)
        by_endpoint[e] = by_endpoint.get(e, 0) + n
        by_method[m] = by_method.get(m, 0) + n
        total += n
        errors += err
        duration += float(ms or 0.0)
    return UsageReport(
        total_requests=total,
        requests_by_endpoint=by_endpoint,
        requests_by_method=by_method,
        average_response_time=round(duration / total, 3) if total else 0.0,
        error_rate=round(100.0 * errors / total, 3) if total else 0.0,
    )
