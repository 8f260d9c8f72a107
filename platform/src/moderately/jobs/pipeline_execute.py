"""The `pipeline.execute` job: one attempt at running one execution.

`run(job)`, inside the job's own process (jobs/isolation.py):

1. Claim: `pending` (or `running` left by an attempt whose worker died: the queue handed the
   job on) becomes `running` with this attempt's `runner_id`. Anything else (cancelled,
   completed, deleted) ends the job at once.
2. Run the engine with a `ServerRunContext` (jobs/pipeline_context.py) under the job budgets
   (engine/budgets.py) while a `Watcher` (jobs/watcher.py) refreshes cancel/pause and writes
   progress.
3. Finish: one compare-and-set (`running` and `runner_id` = mine), so a cancellation or another
   attempt that took over always wins and no execution completes twice. Outputs larger than
   the inline limit go gzip'd to `pipeline-executions/<id>/output.json.gz` (compressed in a
   thread: the watcher keeps running meanwhile).

In the worker process: `stop_requested` tells the worker to end a process whose engine did not
stop in time after a cancel or pause; `stopped` fails the execution when the worker ended it
over a budget (`resource_limit` for memory, `timeout` for wall time, naming the setting);
`gave_up` fails it with `worker_lost` when the job's attempts are spent. Every status change
goes through the lifecycle (services/lifecycle.py): an execution is never left `running`.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import logging
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.ai import ai_services
from moderately.db.models import PipelineConfigurationVersion, PipelineExecution
from moderately.db.session import Database
from moderately.engine import RunResult, run_pipeline
from moderately.engine.budgets import Budgets
from moderately.jobs.base import JobHandler, JobRuntime, Stop, runner_id
from moderately.jobs.executions import ExecutionJob
from moderately.jobs.pipeline_context import RunSignals, ServerRunContext, object_uri
from moderately.jobs.watcher import Watcher
from moderately.services import object_removals
from moderately.services.lifecycle import PIPELINE_EXECUTIONS, failure_note
from moderately.services.pipeline_executions import (
    CHECKPOINT_KEY,
    EXECUTE,
    OUTPUT_KEY,
    PAYLOAD_KEY,
)
from moderately.services.scope import get_in_team
from moderately.services.transfers import Storage
from moderately.statuses import BlockStatus, ExecutionStatus
from moderately.storage import ObjectNotFound
from moderately.workers.base import Job

log = logging.getLogger("moderately.pipelines")

__all__ = ["handlers"]

Execution = PipelineExecution
TIMEOUT_SETTING = "MODERATELY_PIPELINE_TIMEOUT_SECONDS"
# What the API's cancel writes into the progress (services/pipeline_executions.py).
CANCEL_NOTE = ("message", "cancel_reason", "cancellationReason")


JOB = ExecutionJob(PIPELINE_EXECUTIONS, PAYLOAD_KEY)


def handlers(runtime: JobRuntime) -> dict[str, JobHandler]:
    return {
        EXECUTE: JOB.handler(
            runtime,
            run=run,
            stopped=stopped,
            gave_up=gave_up,
            timeout_seconds=runtime.settings.pipeline_timeout_seconds,
            timeout_setting=TIMEOUT_SETTING,
        )
    }


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _configuration(database: Database, execution: Execution) -> dict[str, Any] | None:
    async with database.session(write=False) as session:
        version = await get_in_team(
            session,
            PipelineConfigurationVersion,
            execution.pipeline_configuration_version_id,
            execution.team_id,
        )
        return None if version is None else version.configuration


async def _checkpoint(storage: Storage, execution_id: str) -> dict[str, Any] | None:
    try:
        async with await storage.store.open(CHECKPOINT_KEY.format(execution_id)) as reader:
            loaded = json.loads(await reader.read())
    except ObjectNotFound:
        return None
    return loaded if isinstance(loaded, dict) else None


async def run(runtime: JobRuntime, job: Job) -> None:
    database, storage, settings = runtime.database, runtime.storage, runtime.settings
    execution_id = JOB.execution_id(job)
    owner = runner_id(job)
    execution: Execution | None = await JOB.claim(database, execution_id, owner)
    if execution is None:
        return  # cancelled, finished or deleted meanwhile
    configuration = await _configuration(database, execution)
    if configuration is None:
        return
    resume = await _checkpoint(storage, execution_id)
    signals = RunSignals()
    watcher = Watcher(settings, execution_id, owner, signals)
    with tempfile.TemporaryDirectory(prefix="moderately-run-") as scratch:
        ctx = ServerRunContext(
            database,
            storage,
            execution_id=execution_id,
            team_id=execution.team_id,
            scratch=Path(scratch),
            signals=signals,
        )
        watcher.start()
        try:
            result = await run_pipeline(
                configuration,
                execution.pipeline_input,
                ctx,
                max_parallel_blocks=settings.pipeline_parallel_blocks,
                timeout=settings.pipeline_timeout_seconds,
                timeout_setting=TIMEOUT_SETTING,
                resume=resume,
                budgets=Budgets.from_settings(settings),
                ai=functools.partial(ai_services, settings),
            )
        finally:
            await watcher.stop()
    await _finish(runtime, execution, owner, result, resumed=resume is not None)


async def _finish(
    runtime: JobRuntime, execution: Execution, owner: str, result: RunResult, *, resumed: bool
) -> None:
    """Write the run's end. `resumed`: the run started from a checkpoint, which goes now that
    the run ended (only a pause writes one, and a run that finds none has none to remove)."""
    storage = runtime.storage
    execution_id = execution.pipeline_execution_id
    if result.status == ExecutionStatus.CANCELLED:
        # The run saw its execution cancelled, deleted or taken over. A cancelled row gets the
        # run's final block states under the cancel's own message.
        async with runtime.database.session() as session:
            current = await _progress(session, execution_id)
            kept = {key: current[key] for key in CANCEL_NOTE if key in current}
            await PIPELINE_EXECUTIONS.transition(
                session,
                execution_id,
                ExecutionStatus.CANCELLED,
                expected=(ExecutionStatus.CANCELLED,),
                guard={"runner_id": owner},
                progress=result.progress_data,
                note=kept,
            )
        if resumed:
            with contextlib.suppress(Exception):
                await storage.store.delete(CHECKPOINT_KEY.format(execution_id))
        await _forget_if_deleted(runtime, execution_id)
        return
    values: dict[str, Any] = {
        "current_step": result.current_step,
        "total_steps": result.total_steps or execution.total_steps,
    }
    if result.status == ExecutionStatus.COMPLETED:
        output = result.output or {}
        values["pipeline_output_summary"] = result.output_summary
        values["completed_at"] = result.finished_at
        encoded = await anyio.to_thread.run_sync(_compact_json, output)
        if len(encoded) > runtime.settings.pipeline_inline_output_bytes:
            key = OUTPUT_KEY.format(execution_id)
            packed = await anyio.to_thread.run_sync(gzip.compress, encoded)
            await storage.store.put(key, _one(packed), content_type="application/gzip")
            values.update(
                pipeline_output=None,
                output_storage_key=key,
                output_size_bytes=len(packed),
                pipeline_output_file_uri=object_uri(storage, key),
            )
        else:
            values["pipeline_output"] = output
    elif result.status == ExecutionStatus.FAILED:
        values["failed_at"] = result.finished_at
    elif result.status == ExecutionStatus.PAUSED:
        values["paused_at"] = result.finished_at
        checkpoint = json.dumps(result.checkpoint or {}).encode()
        await storage.store.put(
            CHECKPOINT_KEY.format(execution_id), _one(checkpoint), content_type="application/json"
        )
    # A pause request leaves the row `paused` already: the run's end is written onto it.
    expected = (
        (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED)
        if result.status == ExecutionStatus.PAUSED
        else (ExecutionStatus.RUNNING,)
    )
    async with runtime.database.session() as session:
        written = await PIPELINE_EXECUTIONS.transition(
            session,
            execution_id,
            result.status,
            expected=expected,
            guard={"runner_id": owner},
            values=values,
            progress=result.progress_data,
        )
    if written is not None:
        log.info("execution %s %s (runner %s)", execution_id, result.status, owner)
    else:
        await _forget_if_deleted(runtime, execution_id)
    if resumed and result.status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED):
        with contextlib.suppress(Exception):
            await storage.store.delete(CHECKPOINT_KEY.format(execution_id))


async def _forget_if_deleted(runtime: JobRuntime, execution_id: str) -> None:
    """The execution was deleted while it ran: what the run stored (artifacts, its output)
    after the deletion removed the execution's objects has no owner; remove it too."""
    async with runtime.database.session(write=False) as session:
        if await session.get(Execution, execution_id) is not None:
            return
    async with runtime.database.session() as session:
        await object_removals.schedule(session, [object_removals.execution_prefix(execution_id)])
        await object_removals.remove_after_commit(session, runtime.storage)


def _compact_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


async def stopped(database: Database, job: Job, stop: Stop) -> None:
    """The worker ended this attempt's process. Over a budget: the execution fails with
    `resource_limit` naming it. On request: the row says cancelled or paused already; the
    blocks its last progress showed running did not finish, and the progress says so."""
    execution_id = JOB.execution_id(job)
    async with database.session() as session:
        if stop.kind == "resource_limit":
            await PIPELINE_EXECUTIONS.transition(
                session,
                execution_id,
                ExecutionStatus.FAILED,
                expected=(ExecutionStatus.RUNNING,),
                guard={"runner_id": runner_id(job)},
                progress=_unfinished(
                    await _progress(session, execution_id), ExecutionStatus.FAILED
                ),
                note=failure_note(stop.message, stop.error_type),
            )
            return
        execution = await session.get(Execution, execution_id)
        if execution is None or execution.status not in (
            ExecutionStatus.CANCELLED,
            ExecutionStatus.PAUSED,
        ):
            return
        await PIPELINE_EXECUTIONS.transition(
            session,
            execution_id,
            execution.status,
            expected=(execution.status,),
            progress=_unfinished(execution.progress_data or {}, execution.status),
        )


async def _progress(session: AsyncSession, execution_id: str) -> dict[str, Any]:
    execution = await session.get(Execution, execution_id)
    return dict(execution.progress_data or {}) if execution is not None else {}


def _unfinished(progress: dict[str, Any], status: str) -> dict[str, Any]:
    """The progress of a run whose process was ended: its running blocks did not finish."""
    progress = dict(progress)
    block_status = BlockStatus.FAILED if status == ExecutionStatus.FAILED else BlockStatus.CANCELLED
    blocks = dict(progress.get("blocks") or {})
    for block_id in progress.get("running_blocks") or []:
        if isinstance(blocks.get(block_id), dict):
            blocks[block_id] = {**blocks[block_id], "status": block_status}
    progress.update(blocks=blocks, running_blocks=[], current_block=None)
    return progress


async def gave_up(database: Database, job: Job, reason: str) -> None:
    """The job's attempts are spent: fail the execution (`worker_lost`), never leave it running."""
    message = f"The worker running this execution was lost: {reason}"[:2000]
    async with database.session() as session:
        await PIPELINE_EXECUTIONS.transition(
            session,
            JOB.execution_id(job),
            ExecutionStatus.FAILED,
            expected=(ExecutionStatus.PENDING, ExecutionStatus.RUNNING),
            note=failure_note(message, "worker_lost"),
        )
