"""What the engine needs from its host (`RunContext`) and what a block gets (`BlockContext`).

The engine never imports the database, the object store or the API. The server implements
`RunContext` for one execution (team-scoped file and dataset access, artifact storage, progress
writes, the cancel and pause flags); `engine.testing.InMemoryContext` implements it for tests.

`BlockContext` is built by the engine for each block run: it wraps the `RunContext` with the
block's id, turns missing references into the spec's error codes, and records warnings, item
progress, artifacts and pipeline outputs in the execution's progress.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..ai.types import AIServices, Usage
from .budgets import DEFAULT_BUDGETS, Budgets, format_bytes, json_size, text_bytes
from .errors import BlockError
from .progress import ExecutionProgress
from .values import dataset_ref_of, file_id_of


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A team file whose upload is complete."""

    file_id: str
    file_name: str
    mime_type: str
    file_size: int
    file_hash: str | None = None

    def ref(self) -> dict[str, Any]:
        """The file-ref object that ports carry."""
        return {
            "type": "file",
            "file_id": self.file_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": self.file_size,
            "file_hash": self.file_hash,
        }


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """A team dataset; `has_data` is false when it has no current data version."""

    dataset_id: str
    name: str | None = None
    has_data: bool = True


@dataclass(frozen=True, slots=True)
class DatasetRows:
    """A dataset loaded as rows: values typed by the current schema version.

    `columns` = `[{"name", "type"}, ...]` in schema order (header order without a schema).
    """

    dataset_id: str
    rows: list[dict[str, Any]]
    columns: list[dict[str, Any]] = field(default_factory=list)
    name: str | None = None

    def column_names(self) -> list[str]:
        names = [str(column["name"]) for column in self.columns if "name" in column]
        seen = set(names)
        for row in self.rows:
            for key in row:
                if key not in seen:
                    seen.add(key)
                    names.append(key)
        return names


@runtime_checkable
class RunContext(Protocol):
    """The host of one execution. Every method is called on the execution's event loop.

    File and dataset lookups are scoped to the execution's team: another team's id is simply
    not found (None).
    """

    @property
    def execution_id(self) -> str: ...

    async def get_file(self, file_id: str) -> FileInfo | None:
        """The file if it exists in the team and its upload is completed, else None."""
        ...

    async def read_file(self, file_id: str) -> bytes:
        """The whole content of a file `get_file` returned."""
        ...

    async def get_dataset(self, dataset_id: str) -> DatasetInfo | None:
        """The dataset if it exists in the team, else None."""
        ...

    async def read_dataset(self, dataset_id: str) -> DatasetRows:
        """The rows of the dataset's current data version, parsed and typed as in 2.4."""
        ...

    async def store_artifact(self, name: str, data: bytes) -> str:
        """Keep a large artifact (UTF-8 JSON) in object storage; returns its URI."""
        ...

    async def report_progress(self, progress: ExecutionProgress) -> None:
        """Called after every progress change. Must return quickly: write in the background,
        throttled (`progress.last_event` tells what changed; `progress.progress_data()`
        builds the object to store)."""
        ...

    def cancel_requested(self) -> bool:
        """True once the execution is to be cancelled; polled often, so keep it cheap."""
        ...

    def pause_requested(self) -> bool:
        """True once the execution is to be paused (3.7); polled between blocks."""
        ...


class RunState:
    """Engine-owned state of one run that block contexts share."""

    __slots__ = (
        "_ai",
        "budgets",
        "context",
        "input_values",
        "progress",
        "published",
        "published_bytes",
        "stopping",
    )

    def __init__(
        self,
        context: RunContext,
        progress: ExecutionProgress,
        input_values: Mapping[str, Any],
        budgets: Budgets = DEFAULT_BUDGETS,
        ai: AIServices | Callable[[], AIServices] | None = None,
    ) -> None:
        self._ai = ai
        self.context = context
        self.progress = progress
        self.input_values = input_values
        self.budgets = budgets
        self.published: dict[str, Any] = {}  # output name -> value
        self.published_bytes = 2  # estimated JSON size of `published` (the braces so far)
        self.stopping = False  # set by the engine on failure, cancel or timeout

    def publish(self, name: str, value: Any) -> None:
        """Record `pipelineOutput[name]`; a `resource_limit` error once the output as a whole
        passes `max_output_bytes` (measured as it grows, so the walk stops at the budget)."""
        limit = self.budgets.max_output_bytes
        base = self.published_bytes
        entry = text_bytes(name) + 4  # quotes, colon, comma
        if name in self.published:  # output names are unique; kept exact all the same
            base -= entry + json_size(self.published[name])
        room = max(limit - base - entry, 0)
        size = json_size(value, room)
        if size > room:
            raise self.budgets.exceeded(
                "max_output_bytes",
                f"with output '{name}' the pipeline output is at least "
                f"{format_bytes(base + entry + size)}",
            )
        self.published[name] = value
        self.published_bytes = base + entry + size

    @property
    def ai(self) -> AIServices:
        """The run's chat and embedding models; without any given, those the environment's
        `MODERATELY_*` settings configure. Built on first use: runs without AI blocks never
        load a provider client or a model."""
        if isinstance(self._ai, AIServices):
            return self._ai
        if self._ai is None:
            from ..ai import ai_services
            from ..config import Settings

            self._ai = ai_services(Settings())
        else:
            self._ai = self._ai()
        return self._ai

    def restore_published(self, published: Mapping[str, Any]) -> None:
        """Outputs published before a pause, counted without a check (they passed it then)."""
        for name, value in published.items():
            if name not in self.published:
                self.published_bytes += text_bytes(name) + 4 + json_size(value)
            self.published[name] = value


class BlockContext:
    """The `ctx` argument of `BlockType.run`."""

    __slots__ = ("_state", "_tracked", "block_id", "block_type")

    def __init__(
        self, state: RunState, block_id: str, block_type: str, *, tracked: bool = True
    ) -> None:
        self._state = state
        self._tracked = tracked  # False for map items: they have no progress entry
        self.block_id = block_id
        self.block_type = block_type

    @property
    def run(self) -> RunContext:
        return self._state.context

    @property
    def budgets(self) -> Budgets:
        """The limits of this run (`resource_limit` errors name them)."""
        return self._state.budgets

    @property
    def execution_id(self) -> str:
        return self._state.context.execution_id

    @property
    def ai(self) -> AIServices:
        """Chat models of the configured LLM providers and the embedding models."""
        return self._state.ai

    def child(self, block_id: str, block_type: str) -> BlockContext:
        """A context for an inner block (a `map` item), sharing this run's state."""
        return BlockContext(self._state, block_id, block_type, tracked=False)

    def cancelled(self) -> bool:
        """True when the run is stopping (cancel, failure elsewhere, timeout): start no more
        work. Blocks waiting on I/O are also cancelled as asyncio tasks."""
        return self._state.stopping or self._state.context.cancel_requested()

    def warn(self, message: str) -> None:
        self._state.progress.warn(f"{self.block_id}: {message}")

    def add_llm_usage(self, usage: Usage, *, calls: int = 1) -> None:
        """Add a model call's tokens to the run's `progressData.llm_usage` (map items too; the
        next progress write carries it)."""
        self._state.progress.add_llm_usage(usage.input_tokens, usage.output_tokens, calls)

    async def items_progress(
        self, *, total: int | None = None, completed: int | None = None
    ) -> None:
        if not self._tracked:
            return
        self._state.progress.items(self.block_id, total, completed)
        await self._state.context.report_progress(self._state.progress)

    async def set_phase(self, phase: str) -> None:
        if not self._tracked:
            return
        self._state.progress.phase(self.block_id, phase)
        await self._state.context.report_progress(self._state.progress)

    # -- pipeline-level values --------------------------------------------------------------

    def input_value(self) -> Any:
        """The resolved `pipelineInput` value of this `input` block."""
        try:
            return self._state.input_values[self.block_id]
        except KeyError:
            raise BlockError(
                "invalid_pipeline_input", f"no pipelineInput value for '{self.block_id}'"
            ) from None

    def publish_output(self, name: str, value: Any) -> None:
        """Set `pipelineOutput[name]`; `resource_limit` once the output passes its budget."""
        self._state.publish(name, value)

    def record_artifact(self, name: str, envelope: dict[str, Any]) -> None:
        self._state.progress.artifacts[name] = envelope

    # -- references -------------------------------------------------------------------------

    async def file(self, ref: Any, *, port: str = "file_id") -> FileInfo:
        """The file a port value refers to, or `reference_not_found`."""
        file_id = file_id_of(ref, port=port)
        info = await self._state.context.get_file(file_id)
        if info is None:
            raise BlockError("reference_not_found", f"file '{file_id}' not found")
        return info

    async def read_file(self, info: FileInfo) -> bytes:
        return await self._state.context.read_file(info.file_id)

    async def dataset(self, dataset_id: str) -> DatasetInfo:
        """The dataset, or `dataset_not_found` / `dataset_has_no_data`."""
        info = await self._state.context.get_dataset(dataset_id)
        if info is None:
            raise BlockError("dataset_not_found", f"dataset '{dataset_id}' not found")
        if not info.has_data:
            raise BlockError("dataset_has_no_data", f"dataset '{dataset_id}' has no data")
        return info

    async def load_dataset(self, dataset_id: str) -> DatasetRows:
        info = await self.dataset(dataset_id)
        rows = await self._state.context.read_dataset(dataset_id)
        if rows.name is None and info.name is not None:
            return DatasetRows(rows.dataset_id, rows.rows, rows.columns, info.name)
        return rows

    async def load_rows(self, ref: Any, *, port: str) -> DatasetRows:
        """Rows from a dataset reference (loaded) or from rows given on the port (as is)."""
        resolved = dataset_ref_of(ref, port=port)
        if isinstance(resolved, str):
            return await self.load_dataset(resolved)
        return DatasetRows(dataset_id="", rows=resolved, columns=[])
