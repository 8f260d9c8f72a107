"""Running a pipeline: inputs, DAG scheduling, progress, cancel, failure, output.

    result = await run_pipeline(document_or_plan, pipeline_input, ctx)

* The configuration is validated as for an execution and compiled (`compile_pipeline`), or a
  `Plan` compiled earlier is reused. Input values are resolved and checked (`prepare_inputs`).
* Blocks run once each in a deterministic topological order; ready blocks run concurrently as
  asyncio tasks, at most `max_parallel_blocks` at a time (1 gives exactly the topological
  order). Each consumer of a value gets its own deep copy (the last consumer the original).
* Progress: `ctx.report_progress(progress)` after every change (run start, block start and end,
  map items, end); the host throttles its writes.
* Cancel: `ctx.cancel_requested()` is checked before each block starts and polled while blocks
  run (`poll_interval`); running blocks are cancelled as tasks and marked `cancelled`, no block
  starts afterwards, and the result is `cancelled`.
* Pause (3.7): `ctx.pause_requested()` stops scheduling; running blocks finish; the result is
  `paused` with a JSON-serialisable `checkpoint` that `run_pipeline(..., resume=...)` continues.
* Failure: the first failing block fails the run; running blocks are cancelled; `error`,
  `errors`, `failed_block`, `error_type` and `not_run_blocks` go to `progressData`.
* Budgets (`budgets.Budgets`, defaults when None): every output value a block passes on is
  measured (`json_size`, stopping at the limit) against `max_value_bytes`, the pipeline output
  against `max_output_bytes` as it is published; blocks check their own budgets (map items,
  template output, PDF pages/text/inflation, join rows). A budget passed fails the block with
  `error_type` `resource_limit` and a message naming the budget's setting.
* The result always has a terminal status (or `paused`): no block is left `running`.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from ..ai.types import AIServices
from ..statuses import BlockStatus, ExecutionStatus, FinalStatus
from .budgets import DEFAULT_BUDGETS, Budgets, ResourceLimitError, format_bytes, json_size
from .context import BlockContext, RunContext, RunState
from .errors import BlockError, InvalidConfiguration, InvalidPipelineInput, internal_error_text
from .jsonschemas import validator_for, value_problems
from .plan import Node, Plan
from .progress import ExecutionProgress
from .validate import compile_pipeline
from .values import copy_value, describe

logger = logging.getLogger(__name__)

DEFAULT_PARALLEL_BLOCKS: Final = 4
DEFAULT_POLL_INTERVAL: Final = 0.1  # seconds between cancel/pause/timeout checks while waiting
CANCEL_GRACE: Final = 1.0  # seconds given to cancelled blocks to unwind before returning
SUMMARY_LIMIT: Final = 1000


@dataclass(slots=True)
class RunResult:
    """The outcome of `run_pipeline`; maps onto the execution record.

    * `status` `completed`: `output` is `pipelineOutput` (output names in `blocks` order) and
      `output_summary` its `pipelineOutputSummary`; `current_step == total_steps`.
    * `failed`: `error`, `error_type`, `failed_block` (None when the run failed before any block,
      e.g. `invalid_pipeline_input`), also inside `progress_data`; `output` is None.
    * `cancelled`: `output` is None.
    * `paused`: `checkpoint` holds what `run_pipeline(..., resume=checkpoint)` needs.
    `started_at` / `finished_at` give `startedAt` and `completedAt`/`failedAt`/`cancelledAt`/
    `pausedAt`.
    """

    status: FinalStatus
    current_step: int
    total_steps: int
    progress_data: dict[str, Any]
    started_at: datetime
    finished_at: datetime
    output: dict[str, Any] | None = None
    output_summary: str | None = None
    error: str | None = None
    error_type: str | None = None
    failed_block: str | None = None
    errors: list[str] = field(default_factory=list)
    checkpoint: dict[str, Any] | None = None


# -- inputs ---------------------------------------------------------------------------------


def prepare_inputs(plan: Plan, pipeline_input: Any) -> dict[str, Any]:
    """The value of every `input` block (looked up by block id), validated against its
    JSON Schema (`format` not asserted). Raises `InvalidPipelineInput` with every problem.

    Lookup: `pipelineInput[block id]`, else `[block key]`, else the schema's `default`, else
    (single input block only) the whole `pipelineInput` when it validates. Values are copied.
    """
    if not isinstance(pipeline_input, dict):
        raise InvalidPipelineInput(
            [
                {
                    "field": "pipelineInput",
                    "message": f"must be an object, got {describe(pipeline_input)}",
                }
            ]
        )
    details: list[dict[str, Any]] = []
    values: dict[str, Any] = {}
    single = len(plan.input_nodes) == 1
    for index in plan.input_nodes:
        node = plan.nodes[index]
        schema = node.config.json_schema  # type: ignore[attr-defined]
        validator = validator_for(schema)
        if node.block_id in pipeline_input:
            value = pipeline_input[node.block_id]
        elif node.key in pipeline_input:
            value = pipeline_input[node.key]
        elif isinstance(schema, dict) and "default" in schema:
            value = schema["default"]
        elif single and validator.is_valid(pipeline_input):
            value = pipeline_input
        else:
            details.append(
                {
                    "field": node.block_id,
                    "message": f"pipelineInput has no value for input block '{node.block_id}'",
                }
            )
            continue
        for path, message, offending in value_problems(validator, value):
            detail: dict[str, Any] = {"field": f"{node.block_id}{path}", "message": message}
            if (
                offending is None
                or isinstance(offending, bool | int | float)
                or (isinstance(offending, str) and len(offending) <= 200)
            ):
                detail["value"] = offending
            details.append(detail)
        values[node.block_id] = copy_value(value)
    if details:
        raise InvalidPipelineInput(details)
    return values


# -- output ---------------------------------------------------------------------------------


def output_summary(output: Mapping[str, Any]) -> str:
    """`pipelineOutputSummary` (3.8): `name: ...` entries joined by `; `, at most 1000 chars."""
    parts: list[str] = []
    for name, value in output.items():
        if isinstance(value, str):
            text = value[:100]
        elif isinstance(value, list):
            text = f"array of {len(value)}"
        elif isinstance(value, dict):
            text = f"object with {len(value)} keys"
        elif value is None:
            text = "null"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        parts.append(f"{name}: {text}")
    return "; ".join(parts)[:SUMMARY_LIMIT]


# -- the run --------------------------------------------------------------------------------


async def run_pipeline(
    configuration: Plan | Mapping[str, Any],
    pipeline_input: Any,
    ctx: RunContext,
    *,
    max_parallel_blocks: int = DEFAULT_PARALLEL_BLOCKS,
    timeout: float | None = None,
    timeout_setting: str | None = None,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    resume: Mapping[str, Any] | None = None,
    budgets: Budgets | None = None,
    ai: AIServices | Callable[[], AIServices] | None = None,
) -> RunResult:
    """Execute a configuration (or a compiled `Plan`) on `pipeline_input` through `ctx`.

    `budgets` bounds what the run may produce (`Budgets()` when None); a block that goes over
    one fails the run with `error_type` `resource_limit`. `ai` gives the AI blocks their chat
    and embedding models, or a function that builds them when a block first asks (None: from
    the environment's `MODERATELY_*` settings).

    Never raises for pipeline problems: an invalid configuration or input, a failing block, a
    timeout, a cancellation all come back as a `RunResult`. Cancelling the task that awaits
    `run_pipeline` cancels the running blocks and propagates `CancelledError`.
    """
    started = time.time()
    try:
        plan = configuration if isinstance(configuration, Plan) else compile_pipeline(configuration)
    except InvalidConfiguration as exc:
        messages = [error.message for error in exc.report.errors]
        return _early_failure(started, "invalid_pipeline_configuration", messages)
    try:
        values = prepare_inputs(plan, pipeline_input)
    except InvalidPipelineInput as exc:
        messages = [f"{detail['field']}: {detail['message']}" for detail in exc.details]
        return _early_failure(started, "invalid_pipeline_input", messages, plan)
    runner = _Runner(
        plan,
        values,
        ctx,
        max(1, max_parallel_blocks),
        timeout,
        poll_interval,
        budgets if budgets is not None else DEFAULT_BUDGETS,
        ai,
    )
    runner.timeout_setting = timeout_setting
    return await runner.run(resume)


def _early_failure(
    started: float, error_type: str, messages: list[str], plan: Plan | None = None
) -> RunResult:
    progress = ExecutionProgress(
        [(node.block_id, node.type_name, node.name) for node in plan.nodes] if plan else []
    )
    progress.run_started()
    progress.started = started
    error = f"{'Invalid pipeline input' if plan else 'Invalid configuration'}: {messages[0]}"
    progress.error = error
    progress.errors = [error, *messages[1:]]
    progress.error_type = error_type
    progress.finish(ExecutionStatus.FAILED, f"Failed: {error}")
    return RunResult(
        status=ExecutionStatus.FAILED,
        current_step=0,
        total_steps=progress.total_steps,
        progress_data=progress.progress_data(),
        started_at=datetime.fromtimestamp(started, UTC),
        finished_at=datetime.fromtimestamp(progress.finished or started, UTC),
        error=error,
        error_type=error_type,
        errors=list(progress.errors),
    )


# Why the scheduler stops: the final status it leads to, or the run's time limit (failed).
_Stop = Literal[
    ExecutionStatus.FAILED, ExecutionStatus.CANCELLED, ExecutionStatus.PAUSED, "timeout"
]
_ENDING = (ExecutionStatus.FAILED, ExecutionStatus.CANCELLED, "timeout")


class _Runner:
    def __init__(
        self,
        plan: Plan,
        values: dict[str, Any],
        ctx: RunContext,
        limit: int,
        timeout: float | None,
        poll_interval: float,
        budgets: Budgets,
        ai: AIServices | Callable[[], AIServices] | None,
    ) -> None:
        self.plan = plan
        self.ctx = ctx
        self.limit = limit
        self.timeout = timeout
        self.timeout_setting: str | None = None  # named in the timeout's message
        self.poll_interval = poll_interval
        self.progress = ExecutionProgress(
            [(node.block_id, node.type_name, node.name) for node in plan.nodes]
        )
        self.state = RunState(ctx, self.progress, values, budgets, ai)
        # outputs[node index] = {port: value}, dropped once every consumer has its copy
        self.outputs: dict[int, dict[str, Any]] = {}
        self.remaining: dict[tuple[int, str], int] = {}  # consumers still to be served
        self.waiting = [len(node.upstream) for node in plan.nodes]
        self.running: dict[asyncio.Task[dict[str, Any]], int] = {}
        self.stop: _Stop | None = None
        self.failed_block: Node | None = None
        self.error_type: str | None = None
        self.errors: list[str] = []
        self.report_failed = False

    # -- main loop ----------------------------------------------------------------------------

    async def run(self, resume: Mapping[str, Any] | None) -> RunResult:
        plan = self.plan
        self.progress.run_started()
        done_before = self._restore(resume) if resume else set()
        for node in plan.nodes:
            for port, count in node.consumers.items():
                self.remaining[(node.index, port)] = count
        for node in plan.nodes:
            if node.index in done_before:
                for edge in node.incoming:
                    self._served(edge.source, edge.source_port)
        ready = [
            plan.rank[node.index]
            for node in plan.nodes
            if node.index not in done_before and self.waiting[node.index] == 0
        ]
        heapq.heapify(ready)
        deadline = time.monotonic() + self.timeout if self.timeout is not None else None
        await self._report()
        try:
            while True:
                self._check_stop(deadline)
                while ready and len(self.running) < self.limit and self.stop is None:
                    node = plan.nodes[plan.order[heapq.heappop(ready)]]
                    self._start(node)
                    await self._report()
                    self._check_stop(deadline)
                if not self.running:
                    break
                wait = self.poll_interval
                if deadline is not None:
                    wait = max(0.0, min(wait, deadline - time.monotonic()))
                done, _ = await asyncio.wait(
                    self.running.keys(), timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                for task in sorted(done, key=lambda task: plan.rank[self.running[task]]):
                    node = plan.nodes[self.running.pop(task)]
                    if self._finished(node, task):
                        for target in node.downstream:
                            self.waiting[target] -= 1
                            if self.waiting[target] == 0 and self.stop is None:
                                heapq.heappush(ready, plan.rank[target])
                    await self._report()
                if self.stop in _ENDING and self.running:
                    await self._cancel_running()
        except asyncio.CancelledError:
            await self._cancel_running()
            raise
        except Exception as exc:  # a bug in the engine or the host: fail, never hang
            logger.exception("pipeline run of %s failed internally", self.ctx.execution_id)
            self.error_type = "internal_error"
            self.errors.insert(0, f"The pipeline engine failed: {internal_error_text(exc)}")
            self._set_stop(ExecutionStatus.FAILED)
            await self._cancel_running()
        return self._result()

    def _check_stop(self, deadline: float | None) -> None:
        if self.stop in _ENDING:
            return
        if self.ctx.cancel_requested():
            self._set_stop(ExecutionStatus.CANCELLED)
        elif deadline is not None and time.monotonic() >= deadline:
            self._set_stop("timeout")
            message = f"the execution ran past its wall-time budget of {self.timeout:g} s"
            if self.timeout_setting:
                message += f" ({self.timeout_setting})"
            self.error_type = "timeout"
            self.errors.append(message)
        elif self.stop is None and self.ctx.pause_requested():
            self.stop = ExecutionStatus.PAUSED

    def _set_stop(self, stop: _Stop) -> None:
        self.stop = stop
        self.state.stopping = True

    # -- one block ------------------------------------------------------------------------

    def _start(self, node: Node) -> None:
        inputs: dict[str, Any] = {}
        for edge in node.incoming:
            value = self._take(edge.source, edge.source_port)
            if edge.multi:
                bucket = inputs.setdefault(edge.target_port, [])
                if isinstance(value, list):
                    bucket.extend(value)
                else:
                    bucket.append(value)
            else:
                inputs[edge.target_port] = value
        block_ctx = BlockContext(self.state, node.block_id, node.type_name)
        self.progress.block_started(node.block_id)
        task = asyncio.create_task(
            node.block_type.run(block_ctx, node.config, inputs), name=f"block:{node.block_id}"
        )
        self.running[task] = node.index

    def _take(self, source: int, port: str) -> Any:
        """The value of `source.port` for one consumer: a copy unless it is the last one."""
        outputs = self.outputs[source]
        value = outputs.get(port)
        if self._served(source, port):
            return value
        return copy_value(value)

    def _served(self, source: int, port: str) -> bool:
        """Count one consumer of `source.port` served; True when it was the last one."""
        key = (source, port)
        left = self.remaining[key] - 1
        self.remaining[key] = left
        if left > 0:
            return False
        outputs = self.outputs.get(source)
        if outputs is not None:
            outputs.pop(port, None)
        return True

    def _finished(self, node: Node, task: asyncio.Task[dict[str, Any]]) -> bool:
        """Record a finished block task; True when it completed successfully."""
        if task.cancelled():
            self.progress.block_cancelled(node.block_id)
            if self.stop is None:  # cancelled from inside (e.g. a map that saw the cancel flag)
                self._set_stop(ExecutionStatus.CANCELLED)
            return False
        exc = task.exception()
        if exc is None:
            result = task.result()
            if not isinstance(result, dict):
                exc = BlockError(
                    "internal_error", f"run() returned {describe(result)}, not an object"
                )
            elif (oversized := self._oversized(node, result)) is not None:
                exc = oversized
            else:
                self.outputs[node.index] = result
                self.progress.block_completed(node.block_id)
                return True
        self._failed(node, exc)
        return False

    def _oversized(self, node: Node, result: dict[str, Any]) -> ResourceLimitError | None:
        """The error for the first output a consumer would get that is over `max_value_bytes`
        (outputs nothing consumes are not measured)."""
        budgets = self.state.budgets
        limit = budgets.max_value_bytes
        for port in node.consumers:
            if port not in result:
                continue
            size = json_size(result[port], limit)
            if size > limit:
                return budgets.exceeded(
                    "max_value_bytes", f"output '{port}' is at least {format_bytes(size)}"
                )
        return None

    def _failed(self, node: Node, exc: BaseException) -> None:
        if isinstance(exc, BlockError):
            error_type, message = exc.error_type, exc.message
        else:
            logger.error(
                "execution %s: block %s (%s) raised",
                self.ctx.execution_id,
                node.block_id,
                node.type_name,
                exc_info=exc,
            )
            error_type, message = "internal_error", internal_error_text(exc)
        text = f"Block '{node.block_id}' ({node.type_name}) failed: {message}"
        self.progress.block_failed(node.block_id, error_type, message)
        self.errors.append(text)
        if self.failed_block is None and self.stop not in (ExecutionStatus.CANCELLED, "timeout"):
            self.failed_block = node
            self.error_type = error_type
            self._set_stop(ExecutionStatus.FAILED)

    async def _cancel_running(self) -> None:
        """Cancel every running block and give them a moment to unwind."""
        tasks = list(self.running)
        for task in tasks:
            task.cancel()
        done, pending = await asyncio.wait(tasks, timeout=CANCEL_GRACE) if tasks else (set(), set())
        for task in sorted(done, key=lambda task: self.plan.rank[self.running[task]]):
            node = self.plan.nodes[self.running.pop(task)]
            if task.cancelled():
                self.progress.block_cancelled(node.block_id)
            elif (exc := task.exception()) is not None:
                self._failed(node, exc)
            else:  # finished before the cancel reached it
                self.outputs[node.index] = task.result()
                self.progress.block_completed(node.block_id)
        for task in pending:  # ignores cancellation; abandoned, and its outcome discarded
            node = self.plan.nodes[self.running.pop(task)]
            task.add_done_callback(_discard_outcome)
            self.progress.block_cancelled(node.block_id)

    # -- reporting ------------------------------------------------------------------------

    async def _report(self) -> None:
        """Hand the progress to the host; a failing progress writer does not stop the run."""
        try:
            await self.ctx.report_progress(self.progress)
        except Exception:
            if not self.report_failed:
                logger.exception("progress report of %s failed", self.ctx.execution_id)
            self.report_failed = True

    def _result(self) -> RunResult:
        progress = self.progress
        plan = self.plan
        if self.stop is None and len(progress.completed) < len(plan.nodes):
            # nothing running, nothing ready, blocks left: cannot happen with a valid plan
            self.error_type = "internal_error"
            self.errors.append("the scheduler stopped with blocks left to run")
            self.stop = ExecutionStatus.FAILED
        status: FinalStatus
        output: dict[str, Any] | None = None
        summary: str | None = None
        checkpoint: dict[str, Any] | None = None
        error: str | None = None
        if self.stop is None:
            status = ExecutionStatus.COMPLETED
            published = self.state.published
            output = {}
            for index in plan.output_nodes:
                name = plan.nodes[index].config.name  # type: ignore[attr-defined]
                if name in published:
                    output[name] = published[name]
            summary = output_summary(output)
            progress.current_step = progress.total_steps
            progress.finish(
                ExecutionStatus.COMPLETED, f"Completed in {progress.elapsed_ms() / 1000:.1f} s"
            )
        elif self.stop == ExecutionStatus.PAUSED:
            status = ExecutionStatus.PAUSED
            checkpoint = self._checkpoint()
            progress.finish(
                ExecutionStatus.PAUSED,
                f"Paused after {progress.current_step} of {progress.total_steps} steps",
            )
        elif self.stop == ExecutionStatus.CANCELLED:
            status = ExecutionStatus.CANCELLED
            progress.finish(ExecutionStatus.CANCELLED, "Cancelled")
        else:
            status = ExecutionStatus.FAILED
            error = self.errors[0] if self.errors else "failed"
            progress.error = error
            progress.errors = list(self.errors)
            progress.error_type = self.error_type
            progress.failed_block = self.failed_block.block_id if self.failed_block else None
            progress.finish(ExecutionStatus.FAILED, f"Failed: {error}")
        finished = progress.finished or time.time()
        return RunResult(
            status=status,
            current_step=progress.current_step,
            total_steps=progress.total_steps,
            progress_data=progress.progress_data(),
            started_at=datetime.fromtimestamp(progress.started or finished, UTC),
            finished_at=datetime.fromtimestamp(finished, UTC),
            output=output,
            output_summary=summary,
            error=error,
            error_type=self.error_type if status == ExecutionStatus.FAILED else None,
            failed_block=progress.failed_block,
            errors=list(self.errors) if status == ExecutionStatus.FAILED else [],
            checkpoint=checkpoint,
        )

    # -- pause and resume -----------------------------------------------------------------

    def _checkpoint(self) -> dict[str, Any]:
        """Completed blocks, the outputs their unfinished consumers still need, and what was
        published or recorded so far. JSON-serialisable."""
        by_index = self.plan.nodes
        return {
            "completed_blocks": list(self._completed_ids()),
            "outputs": {
                by_index[index].block_id: dict(outputs)
                for index, outputs in self.outputs.items()
                if outputs
            },
            "published": dict(self.state.published),
            "artifacts": dict(self.progress.artifacts),
            "warnings": list(self.progress.warnings),
            "llm_usage": dict(self.progress.llm_usage),
        }

    def _completed_ids(self) -> list[str]:
        return [
            block_id
            for block_id, state in self.progress.blocks.items()
            if state.status == BlockStatus.COMPLETED
        ]

    def _restore(self, checkpoint: Mapping[str, Any]) -> set[int]:
        """Mark checkpointed blocks completed and reload the outputs still needed."""
        plan = self.plan
        done: set[int] = set()
        for block_id in checkpoint.get("completed_blocks", []):
            index = plan.by_id.get(block_id)
            if index is None:
                continue
            done.add(index)
            state = self.progress.blocks[block_id]
            state.status = BlockStatus.COMPLETED
            self.progress.completed.append(block_id)
            self.progress.current_step += 1
        for block_id, outputs in checkpoint.get("outputs", {}).items():
            index = plan.by_id.get(block_id)
            if index is not None:
                self.outputs[index] = dict(outputs)
        self.state.restore_published(checkpoint.get("published", {}))
        self.progress.artifacts.update(checkpoint.get("artifacts", {}))
        self.progress.warnings.extend(checkpoint.get("warnings", []))
        for key, count in checkpoint.get("llm_usage", {}).items():
            if key in self.progress.llm_usage and isinstance(count, int):
                self.progress.llm_usage[key] += count
        for index in done:
            for target in plan.nodes[index].downstream:
                self.waiting[target] -= 1
        return done


def _discard_outcome(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        with contextlib.suppress(BaseException):
            task.exception()
