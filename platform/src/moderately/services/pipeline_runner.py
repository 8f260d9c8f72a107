"""Running a pipeline execution on a worker: the `pipeline.execute` job (pipelines.md 3).

`run(job)`:

1. Claim: `pending` (or `running` left by an attempt whose worker died: its lease expired and the
   queue handed the job on) becomes `running` with `startedAt` and this attempt's `runner_id`.
   Anything else (cancelled, completed, deleted) ends the job at once.
2. Run the engine with a `ServerRunContext`: team-scoped files and datasets, artifacts in the
   object store, progress written at most once a second (block failures and the end at once),
   and cancel/pause flags refreshed from the row by a watcher task every `watch_interval`.
3. Finish: one conditional write (`status = running AND runner_id = mine`), so a cancellation
   or another attempt that took over always wins and no execution completes twice. Outputs
   larger than the inline limit go gzip'd to `pipeline-executions/<id>/output.json.gz`.

When a job's attempts are spent (its workers kept dying), `gave_up` fails the execution with
`error_type: worker_lost`: an execution is never left `running`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import json
import logging
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import select, update

from moderately.db.models import (
    Dataset,
    DatasetDataVersion,
    DatasetSchemaVersion,
    File,
    PipelineConfigurationVersion,
    PipelineExecution,
)
from moderately.db.session import Database
from moderately.engine import (
    DatasetInfo,
    DatasetRows,
    ExecutionProgress,
    FileInfo,
    RunResult,
    run_pipeline,
)
from moderately.services.pipeline_executions import (
    CANCELLED,
    COMPLETED,
    EXECUTE,
    FAILED,
    OUTPUT_KEY,
    PAUSED,
    PENDING,
    RUNNING,
)
from moderately.services.transfers import Storage, fetch_to_file
from moderately.storage import ObjectNotFound
from moderately.tabular.rows import read_rows
from moderately.timeutil import utcnow
from moderately.workers.base import Job, JobKind

log = logging.getLogger("moderately.pipelines")
Execution = PipelineExecution
CHECKPOINT_KEY = "pipeline-executions/{}/checkpoint.json"


@dataclass(frozen=True)
class RunnerSettings:
    inline_output_bytes: int = 1024 * 1024
    timeout_seconds: float | None = 3600.0
    parallel_blocks: int = 4
    progress_interval: float = 1.0
    watch_interval: float = 0.25


def job_kinds(
    database: Database, storage: Storage, settings: RunnerSettings | None = None
) -> dict[str, JobKind]:
    settings = settings or RunnerSettings()
    return {
        EXECUTE: JobKind(
            run=functools.partial(run, database, storage, settings),
            gave_up=functools.partial(gave_up, database),
        )
    }


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def object_uri(storage: Storage, key: str) -> str:
    bucket = getattr(storage.store, "bucket", None)
    if bucket:
        return f"s3://{bucket}/{getattr(storage.store, 'prefix', '')}{key}"
    return f"local://{key}"


class ServerRunContext:
    """The engine's host for one execution (engine/context.py RunContext)."""

    def __init__(
        self,
        database: Database,
        storage: Storage,
        execution: Execution,
        runner_id: str,
        scratch: Path,
        settings: RunnerSettings,
    ) -> None:
        self.database = database
        self.storage = storage
        self._execution_id = execution.pipeline_execution_id
        self.team_id = execution.team_id
        self.runner_id = runner_id
        self.scratch = scratch
        self.settings = settings
        self._cancel = False
        self._pause = False
        self._latest: dict[str, Any] | None = None
        self._step: int | None = None
        self._dirty = False
        self._last_write = 0.0
        self._urgent = asyncio.Event()

    # -- RunContext -------------------------------------------------------------------------

    @property
    def execution_id(self) -> str:
        return self._execution_id

    async def get_file(self, file_id: str) -> FileInfo | None:
        async with self.database.session(write=False) as session:
            row = await session.scalar(
                select(File).where(
                    File.file_id == file_id,
                    File.team_id == self.team_id,
                    File.upload_status == "completed",
                )
            )
        if row is None:
            return None
        return FileInfo(row.file_id, row.file_name, row.mime_type, row.file_size, row.file_hash)

    async def read_file(self, file_id: str) -> bytes:
        async with self.database.session(write=False) as session:
            key = await session.scalar(
                select(File.storage_key).where(
                    File.file_id == file_id, File.team_id == self.team_id
                )
            )
        if key is None:
            raise ObjectNotFound(file_id, "file")
        async with await self.storage.store.open(key) as reader:
            return await reader.read()

    async def get_dataset(self, dataset_id: str) -> DatasetInfo | None:
        async with self.database.session(write=False) as session:
            row = await session.scalar(
                select(Dataset).where(
                    Dataset.dataset_id == dataset_id, Dataset.team_id == self.team_id
                )
            )
        if row is None:
            return None
        return DatasetInfo(row.dataset_id, row.name, row.current_data_version_id is not None)

    async def read_dataset(self, dataset_id: str) -> DatasetRows:
        async with self.database.session(write=False) as session:
            dataset = await session.scalar(
                select(Dataset).where(
                    Dataset.dataset_id == dataset_id, Dataset.team_id == self.team_id
                )
            )
            if dataset is None or dataset.current_data_version_id is None:
                raise ObjectNotFound(dataset_id, "dataset data")
            data = await session.get(DatasetDataVersion, dataset.current_data_version_id)
            schema = (
                await session.get(DatasetSchemaVersion, dataset.current_schema_version_id)
                if dataset.current_schema_version_id
                else None
            )
            name = dataset.name
        if data is None:
            raise ObjectNotFound(dataset_id, "dataset data")
        path = self.scratch / f"{data.dataset_data_version_id}.csv"
        if not path.exists():
            await fetch_to_file(self.storage.store, data.storage_key, path)
        columns = schema.columns_json if schema else None
        options = schema.parsing_options if schema else None
        rows, described = await anyio.to_thread.run_sync(read_rows, path, columns, options)
        return DatasetRows(dataset_id, rows, described, name)

    async def store_artifact(self, name: str, data: bytes) -> str:
        key = f"pipeline-executions/{self._execution_id}/artifacts/{name}.json"
        await self.storage.store.put(key, _one(data), content_type="application/json")
        return object_uri(self.storage, key)

    async def report_progress(self, progress: ExecutionProgress) -> None:
        self._latest = progress.progress_data()
        self._step = progress.current_step
        self._dirty = True
        if progress.last_event.kind in ("block_failed", "finished"):
            self._urgent.set()

    def cancel_requested(self) -> bool:
        return self._cancel

    def pause_requested(self) -> bool:
        return self._pause

    # -- the watcher ------------------------------------------------------------------------

    async def watch(self) -> None:
        """Refresh the cancel/pause flags from the row and write throttled progress."""
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that arrives just after the event is set (a failing block sets it right before the
            # run returns), and the watcher would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.watch_interval):
                    await self._urgent.wait()
            urgent = self._urgent.is_set()
            self._urgent.clear()
            try:
                await self._refresh_flags()
                due = time.monotonic() - self._last_write >= self.settings.progress_interval
                if self._dirty and (urgent or due):
                    await self.flush_progress()
            except Exception:  # a lost database: the next round tries again
                log.warning("execution %s: watcher round failed", self._execution_id, exc_info=True)

    async def _refresh_flags(self) -> None:
        async with self.database.session(write=False) as session:
            row = (
                await session.execute(
                    select(Execution.status, Execution.runner_id).where(
                        Execution.pipeline_execution_id == self._execution_id
                    )
                )
            ).first()
        if row is None or row.runner_id != self.runner_id or row.status == CANCELLED:
            self._cancel = True  # deleted, cancelled, or taken over by another attempt
        elif row.status == PAUSED:
            self._pause = True

    async def flush_progress(self) -> None:
        if self._latest is None:
            return
        self._dirty = False
        self._last_write = time.monotonic()
        values: dict[str, Any] = {"progress_data": self._latest, "updated_at": utcnow()}
        if self._step is not None:
            values["current_step"] = self._step
        async with self.database.session() as session:
            await session.execute(
                update(Execution)
                .where(
                    Execution.pipeline_execution_id == self._execution_id,
                    Execution.status == RUNNING,
                    Execution.runner_id == self.runner_id,
                )
                .values(**values)
            )


# ---- the job ----


async def _claim(database: Database, execution_id: str, runner_id: str) -> Execution | None:
    async with database.session() as session:
        now = utcnow()
        result = await session.execute(
            update(Execution)
            .where(
                Execution.pipeline_execution_id == execution_id,
                Execution.status.in_((PENDING, RUNNING)),
            )
            .values(status=RUNNING, runner_id=runner_id, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        await session.execute(
            update(Execution)
            .where(Execution.pipeline_execution_id == execution_id, Execution.started_at.is_(None))
            .values(started_at=now)
            .execution_options(synchronize_session=False)
        )
        execution = await session.get(Execution, execution_id)
        if execution is not None:
            session.expunge(execution)
        return execution


async def _configuration(database: Database, execution: Execution) -> dict[str, Any] | None:
    async with database.session(write=False) as session:
        version = await session.get(
            PipelineConfigurationVersion, execution.pipeline_configuration_version_id
        )
        return None if version is None else version.configuration


async def _checkpoint(storage: Storage, execution_id: str) -> dict[str, Any] | None:
    try:
        async with await storage.store.open(CHECKPOINT_KEY.format(execution_id)) as reader:
            loaded = json.loads(await reader.read())
    except ObjectNotFound:
        return None
    return loaded if isinstance(loaded, dict) else None


async def run(database: Database, storage: Storage, settings: RunnerSettings, job: Job) -> None:
    execution_id = str(job.payload["pipelineExecutionId"])
    runner_id = f"{job.job_id}:{job.attempts}"
    execution = await _claim(database, execution_id, runner_id)
    if execution is None:
        return  # cancelled, finished or deleted meanwhile
    configuration = await _configuration(database, execution)
    if configuration is None:
        return
    resume = await _checkpoint(storage, execution_id)
    with tempfile.TemporaryDirectory(prefix="moderately-run-") as scratch:
        ctx = ServerRunContext(database, storage, execution, runner_id, Path(scratch), settings)
        watcher = asyncio.create_task(ctx.watch())
        try:
            result = await run_pipeline(
                configuration,
                execution.pipeline_input,
                ctx,
                max_parallel_blocks=settings.parallel_blocks,
                timeout=settings.timeout_seconds,
                resume=resume,
            )
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    await _finish(database, storage, settings, execution, runner_id, result)


async def _finish(
    database: Database,
    storage: Storage,
    settings: RunnerSettings,
    execution: Execution,
    runner_id: str,
    result: RunResult,
) -> None:
    execution_id = execution.pipeline_execution_id
    values: dict[str, Any] = {
        "status": result.status,
        "progress_data": result.progress_data,
        "current_step": result.current_step,
        "total_steps": result.total_steps or execution.total_steps,
        "updated_at": utcnow(),
    }
    if result.status == COMPLETED:
        output = result.output or {}
        encoded = json.dumps(output, ensure_ascii=False, separators=(",", ":")).encode()
        values["pipeline_output_summary"] = result.output_summary
        values["completed_at"] = result.finished_at
        if len(encoded) > settings.inline_output_bytes:
            key = OUTPUT_KEY.format(execution_id)
            packed = gzip.compress(encoded)
            await storage.store.put(key, _one(packed), content_type="application/gzip")
            values.update(
                pipeline_output=None,
                output_storage_key=key,
                output_size_bytes=len(packed),
                pipeline_output_file_uri=object_uri(storage, key),
            )
        else:
            values["pipeline_output"] = output
    elif result.status == FAILED:
        values["failed_at"] = result.finished_at
    elif result.status == PAUSED:
        values["paused_at"] = result.finished_at
        checkpoint = json.dumps(result.checkpoint or {}).encode()
        await storage.store.put(
            CHECKPOINT_KEY.format(execution_id), _one(checkpoint), content_type="application/json"
        )
    elif result.status == CANCELLED:
        values.pop("status")  # the API wrote `cancelled` already; keep its record
        values.pop("progress_data")
    expected = PAUSED if result.status == PAUSED else RUNNING
    async with database.session() as session:
        written = await session.execute(
            update(Execution)
            .where(
                Execution.pipeline_execution_id == execution_id,
                Execution.status.in_((RUNNING, expected)),
                Execution.runner_id == runner_id,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    if getattr(written, "rowcount", 0) == 1:
        log.info("execution %s %s (runner %s)", execution_id, result.status, runner_id)
    if result.status in (COMPLETED, FAILED, CANCELLED):
        with contextlib.suppress(Exception):
            await storage.store.delete(CHECKPOINT_KEY.format(execution_id))


async def gave_up(database: Database, job: Job, reason: str) -> None:
    """The job's attempts are spent: fail the execution (`worker_lost`), never leave it running."""
    execution_id = str(job.payload["pipelineExecutionId"])
    message = f"The worker running this execution was lost: {reason}"[:2000]
    async with database.session() as session:
        execution = await session.get(Execution, execution_id)
        if execution is None or execution.status not in (PENDING, RUNNING):
            return
        progress = dict(execution.progress_data or {})
        progress.update(
            status=FAILED,
            message=message,
            error=message,
            errors=[message],
            error_type="worker_lost",
        )
        await session.execute(
            update(Execution)
            .where(
                Execution.pipeline_execution_id == execution_id,
                Execution.status.in_((PENDING, RUNNING)),
            )
            .values(status=FAILED, failed_at=utcnow(), progress_data=progress, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
