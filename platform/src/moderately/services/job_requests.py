"""Requests answered by a worker job: enqueue, then wait for the job's row in `job_results`.

Work too heavy for the API process (schema inference of a whole file) still answers within its
request: `run_and_wait` queues a job in a transaction of its own (committed at once, so workers
see it and the request holds no lock while it waits), then reads `job_results` every
`POLL_SECONDS` (a read-only transaction each time; asyncio sleeps in between, the event loop
stays free) until the job's row is there or `timeout` has passed.

The job side is jobs/replies.py: the job's process writes the result, or a user-facing error
with the status this request answers (`BAD_REQUEST`, `CONFLICT`, `UNAVAILABLE`); its worker
writes an error too when the job fails for good (its attempts spent, or ended over a budget,
which the message names). Nothing within `timeout` (every worker busy, or none running): 503,
and the job expires: the payload's `replyBy` tells its worker that nobody waits past that time,
so it is skipped when claimed later, or stopped when still running. A row written after the
request gave up is purged with the others after a day.

The validation a request can do by itself (permissions, 404s, options) comes before: a bad
request answers at once and queues nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from moderately.db.models import JobResult
from moderately.db.session import Database
from moderately.errors import Conflict, Invalid, Unavailable
from moderately.timeutil import utcnow
from moderately.workers.base import JobQueue

__all__ = [
    "BAD_REQUEST",
    "CONFLICT",
    "POLL_SECONDS",
    "REPLY_BY",
    "UNAVAILABLE",
    "run_and_wait",
]

# How often a waiting request looks for its answer.
POLL_SECONDS = 0.05
# The payload key holding the time (ISO 8601, UTC) after which nobody waits for the answer.
REPLY_BY = "replyBy"
# The statuses a job may answer with (api/errors.py maps the domain errors below to them).
BAD_REQUEST, CONFLICT, UNAVAILABLE = 400, 409, 503


async def run_and_wait(
    database: Database,
    jobs: JobQueue,
    kind: str,
    payload: Mapping[str, Any],
    *,
    team_id: str | None,
    timeout: float,
    field: str | None = None,
    what: str | None = None,
    wait_setting: str | None = None,
    poll_interval: float = POLL_SECONDS,
) -> dict[str, Any]:
    """Queue a `kind` job and wait up to `timeout` seconds for its answer.

    Returns the job's result. A user-facing error the job recorded raises the domain error of
    its status (`Invalid` naming `field` for 400, `Conflict`, `Unavailable`); no answer in time
    raises `Unavailable` (503) naming `what` and the `wait_setting` that bounds the wait.
    """
    started = time.monotonic()
    reply_by = utcnow() + timedelta(seconds=timeout)
    async with database.session() as session:
        job_id = await jobs.enqueue(
            session, kind, {**payload, REPLY_BY: reply_by.isoformat()}, team_id=team_id
        )
    deadline = started + timeout
    while True:
        async with database.session(write=False) as session:
            row = await session.get(JobResult, job_id)
        if row is not None:
            return _answer(row, field)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            setting = f", {wait_setting}" if wait_setting else ""
            raise Unavailable(
                f"no worker took or finished the {what or kind} job within {timeout:g} s"
                f"{setting}: the workers are busy or none is running; retry later"
            )
        await asyncio.sleep(min(poll_interval, remaining))


def _answer(row: JobResult, field: str | None) -> dict[str, Any]:
    if row.error is None:
        return dict(row.result or {})
    status = row.error_status or UNAVAILABLE
    if status == BAD_REQUEST:
        raise Invalid(row.error, field=field)
    if status == CONFLICT:
        raise Conflict(row.error)
    raise Unavailable(row.error)
