"""The queue interface workers are built on: enqueue, claim with a lease, heartbeat, complete, fail.

A job is a `kind` (which handler runs it) and a JSON `payload`. Life cycle (`JobStatus`,
moderately/statuses.py):

    queued --claim--> running --complete--> done
                         |  \\--fail (attempts left)--> queued (after a back-off)
                         |   \\-fail (none left)-----> failed   (the kind's `gave_up` hook runs)
                         \\--lease expired (the worker died)--> queued, or failed when spent

A running job belongs to the worker that claimed it for as long as its lease lasts; the worker
renews the lease (`heartbeat`) while the handler runs. `recover` hands out the jobs of workers
that stopped renewing. Handlers must therefore tolerate running twice (a worker that died after
finishing the work but before `complete`): they record results idempotently.

Fairness: a job names the team it works for, and the queue runs at most `team_cap` jobs of one
team and kind at once, so one team's long or hostile jobs leave the other slots to the other teams.

Enqueueing takes the caller's session, so a job is queued exactly when the change that asked for
it commits (a PATCH that fails queues nothing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class JobError(Exception):
    """A job failure whose text is written for the people who asked for the job: it may reach
    them (an execution's or a dataset's error, through the `gave_up` hook) as it is."""


def public_reason(exc: BaseException) -> str:
    """What a failed attempt may tell clients: a `JobError`'s text, else the exception's kind
    only; its text can name server paths, object keys, SQL or URLs, so only the log has it."""
    if isinstance(exc, JobError):
        return str(exc)
    return f"{type(exc).__name__} (the worker's log has the details)"


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str
    payload: Mapping[str, Any]
    attempts: int  # including the one in progress
    max_attempts: int
    worker_id: str | None = None
    lease_expires_at: datetime | None = None
    team_id: str | None = None  # whose work it is (the per-team cap on running jobs)


@dataclass(frozen=True)
class Recovered:
    """What `recover` did: jobs queued again, and jobs that spent their attempts (failed)."""

    requeued: int = 0
    gave_up: list[tuple[Job, str]] = field(default_factory=list)


@dataclass(frozen=True)
class JobKind:
    """How to run one kind of job; `gave_up(job, reason)` runs once when it fails for good."""

    run: Callable[[Job], Awaitable[None]]
    gave_up: Callable[[Job, str], Awaitable[None]] | None = None


class JobQueue(Protocol):
    async def enqueue(
        self,
        session: AsyncSession,
        kind: str,
        payload: Mapping[str, Any],
        *,
        max_attempts: int | None = None,
        team_id: str | None = None,
    ) -> str:
        """Queue a job in the caller's transaction; returns its id. Jobs of one `team_id` run
        at most the queue's per-team cap at a time."""
        ...

    async def claim(
        self, worker_id: str, kinds: Collection[str], *, now: datetime | None = None
    ) -> Job | None:
        """Take the oldest runnable job of these kinds with a fresh lease, or None."""
        ...

    async def heartbeat(self, job: Job, *, now: datetime | None = None) -> bool:
        """Renew the lease; False when the job is no longer this worker's."""
        ...

    async def complete(self, job: Job, *, now: datetime | None = None) -> bool:
        """Mark the job done; False when it was no longer this worker's."""
        ...

    async def fail(self, job: Job, error: str, *, now: datetime | None = None) -> bool:
        """Record an attempt that raised: queued again after a back-off while attempts remain,
        else failed. True when the job failed for good (the caller runs `gave_up`)."""
        ...

    async def release(self, job: Job) -> None:
        """Hand a job back unfinished (shutdown): queued at once, the attempt not counted."""
        ...

    async def recover(self, *, now: datetime | None = None) -> Recovered:
        """Queue again (or fail, when spent) the running jobs whose lease expired."""
        ...
