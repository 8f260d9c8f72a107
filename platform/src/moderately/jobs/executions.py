"""What the execute jobs of pipelines and agents share (jobs/pipeline_execute.py,
jobs/agent_execute.py): the execution a job's payload names, the claim that starts an attempt's
run, and the handler built from a job's run and the hooks that settle its execution."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from moderately.db.session import Database
from moderately.jobs.base import JobHandler, JobRuntime, Stop
from moderately.jobs.watcher import stop_wanted
from moderately.services.lifecycle import Lifecycle
from moderately.statuses import ExecutionStatus
from moderately.workers.base import Job


@dataclass(frozen=True)
class ExecutionJob:
    """The execute job of one kind of execution: its lifecycle and the payload key naming it."""

    lifecycle: Lifecycle
    payload_key: str

    def execution_id(self, job: Job) -> str:
        return str(job.payload[self.payload_key])

    async def claim(self, database: Database, execution_id: str, owner: str) -> Any | None:
        """`pending` (or `running`: a resume, or an attempt whose worker died and the queue
        handed the job on) becomes `running` with this attempt's `runner_id`, detached from the
        session; None when the execution is anything else (cancelled, finished, deleted)."""
        async with database.session() as session:
            execution = await self.lifecycle.transition(
                session,
                execution_id,
                ExecutionStatus.RUNNING,
                expected=(ExecutionStatus.PENDING, ExecutionStatus.RUNNING),
                values={"runner_id": owner},
            )
            if execution is not None:
                session.expunge(execution)
            return execution

    def handler(
        self,
        runtime: JobRuntime,
        *,
        run: Callable[[JobRuntime, Job], Awaitable[None]],
        stopped: Callable[[Database, Job, Stop], Awaitable[None]],
        gave_up: Callable[[Database, Job, str], Awaitable[None]],
        timeout_seconds: float,
        timeout_setting: str,
    ) -> JobHandler:
        async def run_job(job: Job) -> None:
            await run(runtime, job)

        async def gave_up_job(job: Job, reason: str) -> None:
            await gave_up(runtime.database, job, reason)

        async def stop_requested(job: Job) -> bool:
            # Cancelled, paused or deleted. Not "owned by another attempt": until this attempt's
            # process claims the row, the row still names the attempt before it.
            execution_id = self.execution_id(job)
            wanted = await stop_wanted(runtime.database, execution_id, None, self.lifecycle)
            return wanted is not None

        async def stopped_job(job: Job, stop: Stop) -> None:
            await stopped(runtime.database, job, stop)

        return JobHandler(
            run=run_job,
            timeout_seconds=timeout_seconds,
            timeout_setting=timeout_setting,
            gave_up=gave_up_job,
            stop_requested=stop_requested,
            stopped=stopped_job,
        )
