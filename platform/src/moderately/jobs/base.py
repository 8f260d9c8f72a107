"""What a job handler is, and what it is given.

A `JobHandler` is one kind of background work. `run` does the work; the worker calls it inside a
process of the job's own (jobs/isolation.py), never on the API's event loop. The other hooks run
in the worker process itself: `stop_requested` tells whether the job's record asks it to stop
(cancelled, paused, superseded), `stopped` settles the record after the worker had to end the
job's process (a budget spent, or a stop that the process did not make by itself in time), and
`gave_up` settles it when the job's attempts are spent (its processes kept dying).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from moderately.config import Settings
from moderately.db.session import Database
from moderately.services.transfers import Storage
from moderately.workers.base import Job

__all__ = ["JobHandler", "JobRuntime", "Stop", "runner_id"]


@dataclass(frozen=True)
class JobRuntime:
    """The database, object store and settings a handler works with (one per process)."""

    database: Database
    storage: Storage
    settings: Settings


@dataclass(frozen=True)
class Stop:
    """Why the worker ended a job's process: `requested` (cancel/pause/superseded: the record
    already says so) or `resource_limit` (a budget, named in `message`)."""

    kind: Literal["requested", "resource_limit"]
    message: str
    # What the record's error says it was: `timeout` for the wall-time budget.
    error_type: str = "resource_limit"


@dataclass(frozen=True)
class JobHandler:
    run: Callable[[Job], Awaitable[None]]
    # Wall-time budget of one attempt; the worker ends the process past it.
    timeout_seconds: float
    # The setting that names that budget, for the error message.
    timeout_setting: str
    gave_up: Callable[[Job, str], Awaitable[None]] | None = None
    stop_requested: Callable[[Job], Awaitable[bool]] | None = None
    stopped: Callable[[Job, Stop], Awaitable[None]] | None = None


def runner_id(job: Job) -> str:
    """Who owns a run: this attempt of this job (a retry or a takeover is another owner)."""
    return f"{job.job_id}:{job.attempts}"
