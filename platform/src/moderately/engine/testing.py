"""An in-memory `RunContext` for tests and offline runs.

ctx = InMemoryContext()
file = ctx.add_file(b"%PDF-...", file_name="a.pdf", mime_type="application/pdf")
ctx.add_dataset("ds_1", rows=[{"id": "1", "name": "a"}])
result = await run_pipeline(document, {"pdf": file.file_id}, ctx)
ctx.cancel()            # from another task: the run ends `cancelled`
ctx.events              # every progress event, in order
ctx.artifacts           # what store_artifact received
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .context import DatasetInfo, DatasetRows, FileInfo
from .progress import ExecutionProgress, ProgressEvent
from .values import copy_value

_ids = itertools.count(1)


@dataclass
class _Dataset:
    info: DatasetInfo
    rows: list[dict[str, Any]]
    columns: list[dict[str, Any]]


class InMemoryContext:
    """Files, datasets and artifacts held in dicts; progress recorded as events."""

    def __init__(self, execution_id: str = "pex_test", *, keep_snapshots: bool = False) -> None:
        self._execution_id = execution_id
        self.files: dict[str, FileInfo] = {}
        self.file_data: dict[str, bytes] = {}
        self.datasets: dict[str, _Dataset] = {}
        self.artifacts: dict[str, bytes] = {}
        self.events: list[ProgressEvent] = []
        self.snapshots: list[dict[str, Any]] = []  # progressData after each event, if kept
        self.keep_snapshots = keep_snapshots
        self.last_progress: ExecutionProgress | None = None
        self.cancelled = False
        self.paused = False
        # Called with the progress after each report (tests use it to cancel mid-run).
        self.on_progress: Callable[[ExecutionProgress], Awaitable[None] | None] | None = None

    # -- fixtures ---------------------------------------------------------------------------

    def add_file(
        self,
        data: bytes,
        *,
        file_id: str | None = None,
        file_name: str = "file.bin",
        mime_type: str = "application/octet-stream",
    ) -> FileInfo:
        file_id = file_id or f"file_{next(_ids)}"
        info = FileInfo(
            file_id=file_id,
            file_name=file_name,
            mime_type=mime_type,
            file_size=len(data),
            file_hash=hashlib.sha256(data).hexdigest(),
        )
        self.files[file_id] = info
        self.file_data[file_id] = data
        return info

    def add_dataset(
        self,
        dataset_id: str,
        rows: list[dict[str, Any]] | None = None,
        *,
        columns: list[dict[str, Any]] | None = None,
        name: str | None = None,
        has_data: bool = True,
    ) -> DatasetInfo:
        rows = rows or []
        if columns is None:
            names = list(dict.fromkeys(key for row in rows for key in row))
            columns = [{"name": column, "type": "string"} for column in names]
        info = DatasetInfo(dataset_id, name, has_data)
        self.datasets[dataset_id] = _Dataset(info, rows, columns)
        return info

    def cancel(self) -> None:
        self.cancelled = True

    def pause(self) -> None:
        self.paused = True

    # -- RunContext -------------------------------------------------------------------------

    @property
    def execution_id(self) -> str:
        return self._execution_id

    async def get_file(self, file_id: str) -> FileInfo | None:
        return self.files.get(file_id)

    async def read_file(self, file_id: str) -> bytes:
        return self.file_data[file_id]

    async def get_dataset(self, dataset_id: str) -> DatasetInfo | None:
        found = self.datasets.get(dataset_id)
        return found.info if found else None

    async def read_dataset(self, dataset_id: str) -> DatasetRows:
        found = self.datasets[dataset_id]
        return DatasetRows(
            dataset_id=dataset_id,
            rows=copy_value(found.rows),
            columns=copy_value(found.columns),
            name=found.info.name,
        )

    async def store_artifact(self, name: str, data: bytes) -> str:
        self.artifacts[name] = data
        return f"memory://pipeline-executions/{self._execution_id}/artifacts/{name}.json"

    async def report_progress(self, progress: ExecutionProgress) -> None:
        self.last_progress = progress
        self.events.append(progress.last_event)
        if self.keep_snapshots:
            self.snapshots.append(progress.progress_data())
        if self.on_progress is not None:
            outcome = self.on_progress(progress)
            if outcome is not None:
                await outcome

    def cancel_requested(self) -> bool:
        return self.cancelled

    def pause_requested(self) -> bool:
        return self.paused
