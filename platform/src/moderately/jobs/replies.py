"""Jobs that answer a waiting request: the job side of services/job_requests.py.

`reply_handler` turns a function from a job to its result (a JSON object) into a `JobHandler`
whose every ending writes the one `job_results` row the request is polling for:

* the work returns: its result;
* it raises `Refusal(message, status)`: a user-facing error (bad input, e.g. "not delimited
  text") and the status the request answers with (400 unless said otherwise);
* the worker ended the job's process over a budget (`stopped` with `resource_limit`: memory,
  wall time): an error naming the budget, 400 (the input is too much for this server; retrying
  the same request does not help);
* the job's attempts are spent (`gave_up`: its process kept failing or dying, or its worker
  was lost): an error with the reason, 503.

Any other exception is a failure the queue retries while the request waits. A job claimed after
its payload's `replyBy` (nobody waits any more: no worker was free in time) is skipped, and one
still running then is stopped (`stop_requested`) without an answer.

A row is written once (the first answer wins: a job may run twice), and each write deletes the
rows older than `KEEP_RESULTS` (answers nobody read), so the table stays small whichever queue
backend runs the jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from moderately.db.models import JobResult
from moderately.db.session import Database
from moderately.jobs.base import JobHandler, JobRuntime, Stop
from moderately.services.job_requests import BAD_REQUEST, REPLY_BY, UNAVAILABLE
from moderately.timeutil import as_utc, utcnow
from moderately.workers.base import Job

log = logging.getLogger("moderately.workers")

__all__ = ["KEEP_RESULTS", "Refusal", "expired", "reply_handler", "write_reply"]

# Answers stay this long, then go (the request that waited for one is long gone).
KEEP_RESULTS = timedelta(days=1)
# The API's and the workers' clocks may differ a little: a job expires this much later.
CLOCK_SKEW = timedelta(seconds=2)
MAX_ERROR_CHARS = 4000


class Refusal(Exception):
    """A user-facing error the waiting request answers with (`status`: 400, 409 or 503)."""

    def __init__(self, message: str, status: int = BAD_REQUEST) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def expired(job: Job, now: datetime | None = None) -> bool:
    """Nobody waits for this job's answer any more (its `replyBy` has passed)."""
    value = job.payload.get(REPLY_BY)
    if not isinstance(value, str):
        return False
    try:
        reply_by = as_utc(datetime.fromisoformat(value))
    except ValueError:
        return False
    return (now or utcnow()) > reply_by + CLOCK_SKEW


async def write_reply(
    database: Database,
    job: Job,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    error_status: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Record the job's answer unless it has one already; False when it had. Purges old rows."""
    now = now or utcnow()
    stale = JobResult.created_at < now - KEEP_RESULTS
    try:
        async with database.session() as session:
            await session.execute(delete(JobResult).where(stale))
            if await session.get(JobResult, job.job_id) is not None:
                return False
            session.add(
                JobResult(
                    job_id=job.job_id,
                    team_id=job.team_id,
                    result=result if error is None else None,
                    error=None if error is None else error[:MAX_ERROR_CHARS],
                    error_status=None if error is None else (error_status or UNAVAILABLE),
                    created_at=now,
                )
            )
    except IntegrityError:  # written at the same moment by another run of the job
        return False
    return True


def reply_handler(
    runtime: JobRuntime,
    work: Callable[[Job], Awaitable[dict[str, Any]]],
    *,
    what: str,
    timeout_seconds: float,
    timeout_setting: str,
) -> JobHandler:
    """A handler running `work` whose every ending answers the waiting request; `what` names
    the work in error messages ("schema inference")."""
    database = runtime.database

    async def run(job: Job) -> None:
        if expired(job):
            log.info("job %s (%s): nobody waits for it any more; skipped", job.job_id, job.kind)
            return
        try:
            result = await work(job)
        except Refusal as refusal:
            await write_reply(database, job, error=refusal.message, error_status=refusal.status)
            return
        await write_reply(database, job, result=result)

    async def gave_up(job: Job, reason: str) -> None:
        await write_reply(database, job, error=f"{what} failed: {reason}", error_status=UNAVAILABLE)

    async def stop_requested(job: Job) -> bool:
        return expired(job)

    async def stopped(job: Job, stop: Stop) -> None:
        if stop.kind == "resource_limit":
            message = f"{what} stopped: {stop.message}"
            await write_reply(database, job, error=message, error_status=BAD_REQUEST)

    return JobHandler(
        run=run,
        timeout_seconds=timeout_seconds,
        timeout_setting=timeout_setting,
        gave_up=gave_up,
        stop_requested=stop_requested,
        stopped=stopped,
    )
