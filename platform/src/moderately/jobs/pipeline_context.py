"""The engine's host for one execution on a worker: `ServerRunContext` (engine/context.py
RunContext) reads the team's files and datasets, stores artifacts in the object store, and hands
progress and the cancel/pause flags over to the watcher (jobs/watcher.py), which owns the writes.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread

from moderately.db.models import Dataset, DatasetDataVersion, DatasetSchemaVersion, File
from moderately.db.session import Database
from moderately.engine import DatasetInfo, DatasetRows, ExecutionProgress, FileInfo
from moderately.services.scope import get_in_team
from moderately.services.transfers import Storage, fetch_to_file
from moderately.statuses import UploadStatus
from moderately.storage import ObjectNotFound
from moderately.tabular.rows import read_rows

__all__ = ["RunSignals", "ServerRunContext", "TeamRunHost", "object_uri"]


@dataclass
class RunSignals:
    """What passes between the engine and the watcher of one run (the watcher has a thread of
    its own: plain attributes, each written by one side, and a thread-safe event)."""

    cancel: bool = False
    pause: bool = False
    latest: dict[str, Any] | None = None  # the newest progress payload, not yet written
    step: int | None = None
    dirty: bool = False
    urgent: threading.Event = field(default_factory=threading.Event)


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def object_uri(storage: Storage, key: str) -> str:
    bucket = getattr(storage.store, "bucket", None)
    if bucket:
        return f"s3://{bucket}/{getattr(storage.store, 'prefix', '')}{key}"
    return f"local://{key}"


class TeamRunHost:
    """What a worker-side host of one execution has, for the engine (ServerRunContext) and for
    the agent runtime (jobs/agent_host.py DbAgentHost): the execution's team's files and
    datasets, read-only, and the cancel/pause flags the watcher refreshes."""

    def __init__(
        self,
        database: Database,
        storage: Storage,
        *,
        execution_id: str,
        team_id: str,
        scratch: Path,
        signals: RunSignals,
    ) -> None:
        self.database = database
        self.storage = storage
        self._execution_id = execution_id
        self.team_id = team_id
        self.scratch = scratch
        self.signals = signals

    @property
    def execution_id(self) -> str:
        return self._execution_id

    async def get_file(self, file_id: str) -> FileInfo | None:
        async with self.database.session(write=False) as session:
            row = await get_in_team(session, File, file_id, self.team_id)
        if row is None or row.upload_status != UploadStatus.COMPLETED:
            return None
        return FileInfo(row.file_id, row.file_name, row.mime_type, row.file_size, row.file_hash)

    async def read_file(self, file_id: str) -> bytes:
        async with self.database.session(write=False) as session:
            file = await get_in_team(session, File, file_id, self.team_id)
        if file is None:
            raise ObjectNotFound(file_id, "file")
        async with await self.storage.store.open(file.storage_key) as reader:
            return await reader.read()

    async def get_dataset(self, dataset_id: str) -> DatasetInfo | None:
        async with self.database.session(write=False) as session:
            row = await get_in_team(session, Dataset, dataset_id, self.team_id)
        if row is None:
            return None
        return DatasetInfo(row.dataset_id, row.name, row.current_data_version_id is not None)

    async def read_dataset(self, dataset_id: str) -> DatasetRows:
        async with self.database.session(write=False) as session:
            dataset = await get_in_team(session, Dataset, dataset_id, self.team_id)
            if dataset is None or dataset.current_data_version_id is None:
                raise ObjectNotFound(dataset_id, "dataset data")
            data = await get_in_team(
                session, DatasetDataVersion, dataset.current_data_version_id, self.team_id
            )
            schema = (
                await get_in_team(
                    session, DatasetSchemaVersion, dataset.current_schema_version_id, self.team_id
                )
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

    def cancel_requested(self) -> bool:
        return self.signals.cancel

    def pause_requested(self) -> bool:
        return self.signals.pause


class ServerRunContext(TeamRunHost):
    """The engine's RunContext: a `TeamRunHost` that also stores artifacts and hands the
    progress over to the watcher."""

    async def store_artifact(self, name: str, data: bytes) -> str:
        key = f"pipeline-executions/{self._execution_id}/artifacts/{name}.json"
        await self.storage.store.put(key, _one(data), content_type="application/json")
        return object_uri(self.storage, key)

    async def report_progress(self, progress: ExecutionProgress) -> None:
        signals = self.signals
        signals.latest = progress.progress_data()
        signals.step = progress.current_step
        signals.dirty = True
        # A failed block is written at once. The end is not: the job writes the run's final
        # progress with its status (jobs/pipeline_execute.py `_finish`) right after.
        if progress.last_event.kind == "block_failed":
            signals.urgent.set()
