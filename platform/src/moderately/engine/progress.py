"""Progress of one execution: `currentStep`, `totalSteps` and `progressData`.

The engine mutates one `ExecutionProgress` as blocks start and finish and hands it to
`RunContext.report_progress` after every change. Building the `progressData` object costs time
proportional to the number of blocks, so it happens only when the caller asks for it
(`progress_data()`), typically from a throttled writer: call it on the event loop that runs the
execution, it reads state the engine mutates there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from ..statuses import BlockStatus, ExecutionStatus
from ..timeutil import format_timestamp

EventKind = Literal[
    "started",  # the run began (status running)
    "block_started",
    "block_completed",
    "block_failed",
    "block_cancelled",
    "items",  # a map (or composite) block finished an item, or changed phase
    "finished",  # the run reached its final status (completed, failed, cancelled, paused)
]

MAX_WARNINGS: Final = 200


def _stamp(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return format_timestamp(datetime.fromtimestamp(epoch, UTC))


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """What changed last: lets a throttled writer flush important events at once."""

    kind: EventKind
    block_id: str | None = None


class BlockProgress:
    __slots__ = (
        "_wire",
        "block_id",
        "completed",
        "error",
        "error_type",
        "items_completed",
        "items_total",
        "name",
        "phase",
        "started",
        "status",
        "type",
    )

    def __init__(self, block_id: str, block_type: str, name: str | None) -> None:
        self._wire: dict[str, Any] | None = None
        self.block_id = block_id
        self.type = block_type
        self.name = name
        self.status = BlockStatus.PENDING
        self.started: float | None = None
        self.completed: float | None = None
        self.error: str | None = None
        self.error_type: str | None = None
        self.items_total: int | None = None
        self.items_completed: int | None = None
        self.phase: str | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        # Any change drops the rendered wire form (`to_wire` renders it again when asked).
        object.__setattr__(self, name, value)
        if name != "_wire":
            object.__setattr__(self, "_wire", None)

    @property
    def label(self) -> str:
        return self.name or self.block_id

    def to_wire(self) -> dict[str, Any]:
        """The block's `progressData.blocks[id]` (a fresh dict). Rendered once per change: a
        run reports its whole progress after every block, and most blocks did not change."""
        wire = self._wire
        if wire is None:
            wire = self._render()
            object.__setattr__(self, "_wire", wire)
        return dict(wire)

    def _render(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "type": self.type,
            "status": self.status,
            "started_at": _stamp(self.started),
            "completed_at": _stamp(self.completed),
            "duration_ms": (
                round((self.completed - self.started) * 1000)
                if self.started is not None and self.completed is not None
                else None
            ),
            "error": self.error,
        }
        if self.error_type is not None:
            wire["error_type"] = self.error_type
        if self.items_total is not None:
            wire["items_total"] = self.items_total
            wire["items_completed"] = self.items_completed or 0
        if self.phase is not None:
            wire["phase"] = self.phase
        return wire


class ExecutionProgress:
    """Mutable progress of one run; `progress_data()` renders the spec's `progressData`."""

    def __init__(self, blocks: list[tuple[str, str, str | None]]) -> None:
        self.blocks: dict[str, BlockProgress] = {
            block_id: BlockProgress(block_id, block_type, name)
            for block_id, block_type, name in blocks
        }
        self.total_steps = len(self.blocks)
        self.current_step = 0
        self.status = ExecutionStatus.PENDING
        self.message = "Pending"
        self.started: float | None = None
        self.finished: float | None = None
        self.running: dict[str, None] = {}  # insertion-ordered set
        self.completed: list[str] = []
        self.artifacts: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.warnings_dropped = 0
        self.error: str | None = None
        self.errors: list[str] = []
        self.failed_block: str | None = None
        self.error_type: str | None = None
        self.not_run: list[str] = []
        self.llm_usage: dict[str, int] = {"calls": 0, "input_tokens": 0, "output_tokens": 0}
        self.last_event = ProgressEvent("started")

    # -- engine side ------------------------------------------------------------------------

    def run_started(self) -> None:
        self.status = ExecutionStatus.RUNNING
        self.started = time.time()
        self.message = f"Started, {self.total_steps} blocks"
        self.last_event = ProgressEvent("started")

    def block_started(self, block_id: str) -> None:
        state = self.blocks[block_id]
        state.status = BlockStatus.RUNNING
        state.started = time.time()
        self.running[block_id] = None
        self._running_message(state)
        self.last_event = ProgressEvent("block_started", block_id)

    def block_completed(self, block_id: str) -> None:
        state = self.blocks[block_id]
        state.status = BlockStatus.COMPLETED
        state.completed = time.time()
        self.running.pop(block_id, None)
        self.completed.append(block_id)
        self.current_step += 1
        if self.running:
            self._running_message(self.blocks[next(reversed(self.running))])
        else:
            self.message = (
                f"Completed '{state.label}' ({state.type}), "
                f"step {self.current_step} of {self.total_steps}"
            )
        self.last_event = ProgressEvent("block_completed", block_id)

    def block_failed(self, block_id: str, error_type: str, message: str) -> None:
        state = self.blocks[block_id]
        state.status = BlockStatus.FAILED
        state.completed = time.time()
        state.error = message
        state.error_type = error_type
        self.running.pop(block_id, None)
        self.last_event = ProgressEvent("block_failed", block_id)

    def block_cancelled(self, block_id: str) -> None:
        state = self.blocks[block_id]
        state.status = BlockStatus.CANCELLED
        state.completed = time.time()
        self.running.pop(block_id, None)
        self.last_event = ProgressEvent("block_cancelled", block_id)

    def items(self, block_id: str, total: int | None, completed: int | None) -> None:
        state = self.blocks[block_id]
        if total is not None:
            state.items_total = total
        if completed is not None:
            state.items_completed = completed
        self.last_event = ProgressEvent("items", block_id)

    def phase(self, block_id: str, phase: str) -> None:
        self.blocks[block_id].phase = phase
        self.last_event = ProgressEvent("items", block_id)

    def add_llm_usage(self, input_tokens: int, output_tokens: int, calls: int = 1) -> None:
        """Count LLM calls of the AI blocks into `progressData.llm_usage`."""
        self.llm_usage["calls"] += calls
        self.llm_usage["input_tokens"] += input_tokens
        self.llm_usage["output_tokens"] += output_tokens

    def warn(self, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
        else:
            self.warnings_dropped += 1

    def finish(self, status: ExecutionStatus, message: str) -> None:
        self.status = status
        self.message = message
        self.finished = time.time()
        self.running.clear()
        self.not_run = [
            block_id
            for block_id, state in self.blocks.items()
            if state.status == BlockStatus.PENDING
        ]
        self.last_event = ProgressEvent("finished")

    def _running_message(self, state: BlockProgress) -> None:
        step = min(self.current_step + 1, self.total_steps)
        self.message = f"Running '{state.label}' ({state.type}), step {step} of {self.total_steps}"

    # -- reader side ------------------------------------------------------------------------

    @property
    def current_block(self) -> str | None:
        if self.running:
            return next(reversed(self.running))
        return self.completed[-1] if self.completed else None

    def elapsed_ms(self) -> int:
        if self.started is None:
            return 0
        end = self.finished if self.finished is not None else time.time()
        return round((end - self.started) * 1000)

    def progress_data(self) -> dict[str, Any]:
        """The `progressData` object (a fresh dict; safe to serialise or keep)."""
        data: dict[str, Any] = {
            "status": self.status,
            "message": self.message,
            "current_block": self.current_block,
            "running_blocks": list(self.running),
            "completed_blocks": list(self.completed),
            "blocks": {block_id: state.to_wire() for block_id, state in self.blocks.items()},
            "artifacts": dict(self.artifacts),
            "warnings": self._warning_list(),
            "started_at": _stamp(self.started),
            "elapsed_ms": self.elapsed_ms(),
        }
        if self.llm_usage["calls"]:
            data["llm_usage"] = dict(self.llm_usage)
        if self.status in (
            ExecutionStatus.FAILED,
            ExecutionStatus.CANCELLED,
            ExecutionStatus.PAUSED,
        ):
            data["not_run_blocks"] = list(self.not_run)
        if self.error is not None:
            data["error"] = self.error
            data["errors"] = list(self.errors)
            data["failed_block"] = self.failed_block
            data["error_type"] = self.error_type
        return data

    def _warning_list(self) -> list[str]:
        if not self.warnings_dropped:
            return list(self.warnings)
        return [*self.warnings, f"... and {self.warnings_dropped} more warnings"]
