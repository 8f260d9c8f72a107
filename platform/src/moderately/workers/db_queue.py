"""The job queue in the application database (the `jobs` table), for SQLite and PostgreSQL.

Claims are atomic: one write transaction selects the oldest runnable job and marks it running
with a lease. On PostgreSQL the select takes `FOR UPDATE SKIP LOCKED`, so workers in several
processes never claim the same job and never wait on each other; on SQLite the write transaction
itself is exclusive (db/dialect.py). Every change of a running job is conditional on the worker
still owning it, so a worker whose lease was taken over cannot overwrite the new owner's state.

Fairness: a claim passes over the jobs of teams that already run `team_cap` jobs of the kinds
it claims (each kind has its own claim loops, so a team's long pipelines never hold up its own
schema inference). On PostgreSQL
claims take a transaction-scoped advisory lock first, so two workers can't both see a team
under its cap and start one job each over it (claims are short; they queue on the lock).

Idle polling stays cheap: a read-only probe comes first, and only when it sees work it may take
(the team cap applied) does the queue open a write transaction (on SQLite, the write lock).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, event, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.dialect import skip_locked
from moderately.db.models import Job as JobRow
from moderately.db.session import Database
from moderately.statuses import JobStatus
from moderately.timeutil import utcnow
from moderately.workers.base import Job, Recovered

log = logging.getLogger("moderately.workers")

MAX_ERROR_CHARS = 4000
# The advisory lock key that serialises claims on PostgreSQL (any constant of our own).
_CLAIMS = 0x6D6F6465


def retry_delay(attempts: int) -> timedelta:
    """Back-off before the next attempt: 5 s, 10 s, 20 s, ... at most 5 minutes."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 300))


class DbQueue:
    def __init__(
        self,
        database: Database,
        *,
        lease_seconds: float = 60.0,
        max_attempts: int = 3,
        team_cap: int | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.team_cap = team_cap
        self.clock = clock
        # Called once a transaction that enqueued a job commits (the in-process workers wake).
        self.on_enqueue: Callable[[], None] | None = None

    # ---- producers ----

    async def enqueue(
        self,
        session: AsyncSession,
        kind: str,
        payload: Mapping[str, Any],
        *,
        max_attempts: int | None = None,
        team_id: str | None = None,
    ) -> str:
        row = JobRow(
            kind=kind,
            payload=dict(payload),
            team_id=team_id,
            status=JobStatus.QUEUED,
            attempts=0,
            max_attempts=max_attempts or self.max_attempts,
            run_after=self.clock(),
        )
        session.add(row)
        await session.flush()
        if self.on_enqueue is not None:
            notify = self.on_enqueue
            event.listen(session.sync_session, "after_commit", lambda _s: notify(), once=True)
        return row.job_id

    # ---- workers ----

    async def claim(
        self, worker_id: str, kinds: Collection[str], *, now: datetime | None = None
    ) -> Job | None:
        now = now or self.clock()
        runnable = select(JobRow.job_id).where(
            JobRow.status == JobStatus.QUEUED, JobRow.kind.in_(list(kinds)), JobRow.run_after <= now
        )
        if self.team_cap is not None:
            busy = (
                select(JobRow.team_id)
                .where(
                    JobRow.status == JobStatus.RUNNING,
                    JobRow.team_id.is_not(None),
                    JobRow.kind.in_(list(kinds)),
                )
                .group_by(JobRow.team_id)
                .having(func.count() >= self.team_cap)
            )
            runnable = runnable.where(or_(JobRow.team_id.is_(None), JobRow.team_id.not_in(busy)))
        # The probe applies the cap too: jobs of teams at their cap open no write transaction.
        async with self.database.session(write=False) as session:
            if await session.scalar(runnable.limit(1)) is None:
                return None
        async with self.database.session() as session:
            if self.team_cap is not None and self.database.dialect == "postgresql":
                await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIMS})
            job_id = await session.scalar(
                skip_locked(runnable.order_by(JobRow.run_after, JobRow.created_at).limit(1))
            )
            if job_id is None:
                return None
            await session.execute(
                update(JobRow)
                .where(JobRow.job_id == job_id, JobRow.status == JobStatus.QUEUED)
                .values(
                    status=JobStatus.RUNNING,
                    worker_id=worker_id,
                    attempts=JobRow.attempts + 1,
                    lease_expires_at=now + self.lease,
                    updated_at=now,
                )
            )
            row = await session.get(JobRow, job_id, populate_existing=True)
            assert row is not None
            return _job(row)

    async def heartbeat(self, job: Job, *, now: datetime | None = None) -> bool:
        now = now or self.clock()
        return await self._change(job, lease_expires_at=now + self.lease, updated_at=now)

    async def complete(self, job: Job, *, now: datetime | None = None) -> bool:
        now = now or self.clock()
        return await self._change(
            job, status=JobStatus.DONE, lease_expires_at=None, finished_at=now, updated_at=now
        )

    async def fail(self, job: Job, error: str, *, now: datetime | None = None) -> bool:
        now = now or self.clock()
        error = error[:MAX_ERROR_CHARS]
        if job.attempts < job.max_attempts:
            await self._change(
                job,
                status=JobStatus.QUEUED,
                worker_id=None,
                lease_expires_at=None,
                run_after=now + retry_delay(job.attempts),
                last_error=error,
                updated_at=now,
            )
            return False
        return await self._change(
            job,
            status=JobStatus.FAILED,
            lease_expires_at=None,
            last_error=error,
            finished_at=now,
            updated_at=now,
        )

    async def release(self, job: Job) -> None:
        await self._change(
            job,
            status=JobStatus.QUEUED,
            worker_id=None,
            lease_expires_at=None,
            attempts=JobRow.attempts - 1,
            run_after=self.clock(),
        )

    async def recover(self, *, now: datetime | None = None) -> Recovered:
        now = now or self.clock()
        expired = (JobRow.status == JobStatus.RUNNING) & (JobRow.lease_expires_at < now)
        async with self.database.session(write=False) as session:
            if await session.scalar(select(JobRow.job_id).where(expired).limit(1)) is None:
                return Recovered()
        requeued = 0
        gave_up: list[tuple[Job, str]] = []
        async with self.database.session() as session:
            rows = (await session.scalars(skip_locked(select(JobRow).where(expired)))).all()
            for row in rows:
                job = _job(row)
                if row.attempts >= row.max_attempts:
                    reason = (
                        f"its worker stopped (lease expired) on attempt {row.attempts} of "
                        f"{row.max_attempts}; not retried"
                    )
                    values: dict[str, Any] = {"status": JobStatus.FAILED, "finished_at": now}
                    gave_up.append((job, reason))
                else:
                    reason = f"its worker stopped (lease expired) on attempt {row.attempts}"
                    values = {"status": JobStatus.QUEUED, "worker_id": None, "run_after": now}
                    requeued += 1
                await session.execute(
                    update(JobRow)
                    .where(JobRow.job_id == row.job_id, expired)
                    .values(lease_expires_at=None, last_error=reason, updated_at=now, **values)
                )
        if requeued or gave_up:
            log.warning("recovered %d expired jobs, gave up on %d", requeued, len(gave_up))
        return Recovered(requeued, gave_up)

    async def purge(self, *, older_than: timedelta, now: datetime | None = None) -> int:
        """Delete done and failed jobs that finished more than `older_than` ago."""
        cutoff = (now or self.clock()) - older_than
        finished = JobRow.status.in_([JobStatus.DONE, JobStatus.FAILED]) & (
            JobRow.finished_at < cutoff
        )
        async with self.database.session(write=False) as session:
            if await session.scalar(select(JobRow.job_id).where(finished).limit(1)) is None:
                return 0
        async with self.database.session() as session:
            result = await session.execute(delete(JobRow).where(finished))
            return int(getattr(result, "rowcount", 0) or 0)

    async def _change(self, job: Job, **values: Any) -> bool:
        async with self.database.session() as session:
            result = await session.execute(update(JobRow).where(_owned(job)).values(**values))
            return int(getattr(result, "rowcount", 0) or 0) > 0


def _owned(job: Job) -> ColumnElement[bool]:
    return (
        (JobRow.job_id == job.job_id)
        & (JobRow.status == JobStatus.RUNNING)
        & (JobRow.worker_id == job.worker_id)
    )


def _job(row: JobRow) -> Job:
    return Job(
        job_id=row.job_id,
        kind=row.kind,
        payload=dict(row.payload),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        worker_id=row.worker_id,
        lease_expires_at=row.lease_expires_at,
        team_id=row.team_id,
    )


__all__ = ["DbQueue", "retry_delay"]
