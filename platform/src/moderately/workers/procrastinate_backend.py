"""Jobs dispatched through procrastinate on the platform's PostgreSQL (setting
`job_backend=procrastinate`; optional dependency `moderately[workers]`).

* Producer: `ProcrastinateQueue.enqueue` defers a procrastinate job with plain SQL on the caller's
  session (`procrastinate_defer_jobs_v1`), so the job exists exactly when the change that asked
  for it commits; procrastinate's NOTIFY wakes the listening workers at once.
* Fairness: each job kind has a queue of its own (`moderately.<kind>`) and its own worker with
  its own slots, so long pipelines never hold dataset processing's slots; a job of a team takes
  one of `team_cap` procrastinate locks of that team and kind (`team:<id>:<kind>:<n>`), and
  procrastinate never runs two jobs holding the same lock at once: at most `team_cap` jobs of a
  team and kind run together.
* Workers: `run_procrastinate_worker` runs procrastinate's workers with one task that looks the
  job's `kind` up and runs its handler (the same handlers as the database queue). A handler that
  raises is retried by procrastinate while attempts remain; on the last attempt the kind's
  `gave_up` runs. Workers send heartbeats; each worker also sweeps for jobs of workers whose
  heartbeat stopped (SIGKILL, lost machine) and retries them, or gives up when spent.

Only this module imports procrastinate: the engine and the services see `JobQueue` and `JobKind`
(workers/base.py) and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.ids import new_id
from moderately.workers.base import Job, JobKind, Recovered, public_reason

log = logging.getLogger("moderately.workers")

TASK = "moderately.run_job"
RETRY_WAIT_SECONDS = 5

_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, NULL, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))"
)


def queue_for(kind: str) -> str:
    return f"moderately.{kind}"


def conninfo(database_url: str) -> str:
    """A libpq URL from a SQLAlchemy one (`postgresql+psycopg://` → `postgresql://`)."""
    scheme, sep, rest = database_url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


class ProcrastinateQueue:
    """The producer side of `JobQueue` (workers claim through procrastinate, not through it)."""

    def __init__(self, *, max_attempts: int = 3, team_cap: int | None = None) -> None:
        self.max_attempts = max_attempts
        self.team_cap = team_cap

    async def enqueue(
        self,
        session: AsyncSession,
        kind: str,
        payload: Mapping[str, Any],
        *,
        max_attempts: int | None = None,
        team_id: str | None = None,
    ) -> str:
        job_id = new_id()
        args = {
            "kind": kind,
            "payload": dict(payload),
            "job_id": job_id,
            "max_attempts": max_attempts or self.max_attempts,
            "team_id": team_id,
        }
        lock = None
        if team_id is not None and self.team_cap is not None:
            lock = f"team:{team_id}:{kind}:{secrets.randbelow(self.team_cap)}"
        await session.execute(
            _DEFER,
            {"queue": queue_for(kind), "task": TASK, "lock": lock, "args": json.dumps(args)},
        )
        return job_id

    # Claims, leases and recovery belong to procrastinate's workers.
    async def claim(
        self, worker_id: str, kinds: Collection[str], *, now: datetime | None = None
    ) -> Job | None:
        raise NotImplementedError("procrastinate workers claim jobs themselves")

    async def heartbeat(self, job: Job, *, now: datetime | None = None) -> bool:
        return True

    async def complete(self, job: Job, *, now: datetime | None = None) -> bool:
        return True

    async def fail(self, job: Job, error: str, *, now: datetime | None = None) -> bool:
        raise NotImplementedError("procrastinate workers retry jobs themselves")

    async def release(self, job: Job) -> None:
        return None

    async def recover(self, *, now: datetime | None = None) -> Recovered:
        return Recovered()


async def apply_schema(database_url: str) -> bool:
    """Create procrastinate's tables and functions unless present; True when applied now."""
    import procrastinate

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url))
    )
    async with app.open_async():
        present = await app.connector.execute_query_one_async(
            "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
        )
        if present["present"]:
            return False
        await app.schema_manager.apply_schema_async()
        return True


async def run_procrastinate_worker(
    database_url: str,
    kinds: Mapping[str, JobKind],
    *,
    slots: Mapping[str, int],
    stop: asyncio.Event,
    stalled_after: float = 30.0,
    sweep_interval: float = 5.0,
) -> None:
    """Run jobs until `stop` is set, `slots[kind]` of each kind at once; a job cut short is
    retried by the stalled-job sweep."""
    import procrastinate
    from procrastinate.jobs import Status

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url))
    )

    @app.task(
        name=TASK,
        pass_context=True,
        retry=procrastinate.RetryStrategy(max_attempts=100, wait=RETRY_WAIT_SECONDS),
    )
    async def run_job(
        context: Any,
        kind: str,
        payload: dict[str, Any],
        job_id: str,
        max_attempts: int,
        team_id: str | None = None,
    ) -> None:
        attempts = int(getattr(context.job, "attempts", 0) or 0) + 1
        worker = str(context.worker_name)
        job = Job(job_id, kind, payload, attempts, max_attempts, worker, team_id=team_id)
        handler = kinds.get(kind)
        if handler is None:
            log.warning("job %s: no handler for kind %s", job_id, kind)
            return
        try:
            await handler.run(job)
        except Exception as exc:
            if attempts < max_attempts:
                raise  # procrastinate retries it after RETRY_WAIT_SECONDS
            log.warning("job %s (%s) failed", job_id, kind, exc_info=True)
            reason = public_reason(exc)
            await _give_up(handler, job, f"gave up after {attempts} attempts: {reason}")

    async def sweep() -> None:
        """Jobs of workers whose heartbeat stopped: retry them, or give up when spent."""
        while True:
            await asyncio.sleep(sweep_interval)
            try:
                stalled = await app.job_manager.get_stalled_jobs(
                    task_name=TASK, seconds_since_heartbeat=stalled_after
                )
                for found in stalled:
                    args: dict[str, Any] = dict(found.task_kwargs)
                    attempts = int(found.attempts or 0) + 1
                    max_attempts = int(args.get("max_attempts", 1))
                    if attempts < max_attempts:
                        log.warning("job %s: its worker was lost; retrying", args.get("job_id"))
                        await app.job_manager.retry_job(found)
                        continue
                    handler = kinds.get(str(args.get("kind")))
                    await app.job_manager.finish_job_by_id_async(
                        found.id or 0, status=Status.FAILED, delete_job=False
                    )
                    if handler is not None:
                        job = Job(
                            str(args.get("job_id")),
                            str(args.get("kind")),
                            dict(args.get("payload") or {}),
                            attempts,
                            max_attempts,
                            team_id=args.get("team_id"),
                        )
                        await _give_up(handler, job, "its workers were lost")
                await app.job_manager.prune_stalled_workers(stalled_after)
            except Exception:
                log.warning("stalled-job sweep failed", exc_info=True)

    async with app.open_async():
        tasks = [asyncio.create_task(sweep())]
        for kind, count in slots.items():
            if kind not in kinds or count < 1:
                continue
            tasks.append(
                asyncio.create_task(
                    app.run_worker_async(
                        queues=[queue_for(kind)],
                        concurrency=count,
                        install_signal_handlers=False,
                        update_heartbeat_interval=max(stalled_after / 3, 0.5),
                        stalled_worker_timeout=stalled_after,
                        fetch_job_polling_interval=1.0,
                    )
                )
            )
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


async def _give_up(handler: JobKind, job: Job, reason: str) -> None:
    if handler.gave_up is None:
        return
    try:
        await handler.gave_up(job, reason)
    except Exception:
        log.warning("job %s: the gave_up hook failed", job.job_id, exc_info=True)
