"""Builders for configuration documents and a probe block type for engine tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from moderately.engine import BlockContext, BlockPorts, BlockType, Port, RunResult, run_pipeline
from moderately.engine.context import RunState
from moderately.engine.errors import BlockError
from moderately.engine.progress import ExecutionProgress
from moderately.engine.registry import get_block_type
from moderately.engine.testing import InMemoryContext

PROBE = "test_probe"


def entry(block_id: str, block_type: str, config: dict[str, Any] | None = None, **extra: Any):
    return {"id": block_id, "type": block_type, "config": config or {}, **extra}


def conn(
    source: str, target: str, source_port: str = "data", target_port: str = "data"
) -> dict[str, str]:
    return {
        "source_block_id": source,
        "source_port": source_port,
        "target_block_id": target,
        "target_port": target_port,
    }


def document(*entries: dict[str, Any], connections: list[dict[str, Any]] | None = None):
    return {
        "id": "test_pipeline",
        "name": "Test pipeline",
        "blocks": {item["id"]: item for item in entries},
        "connections": connections or [],
    }


def inp(block_id: str = "in", schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return entry(block_id, "input", {"json_schema": schema or {}})


def out(block_id: str = "out", name: str | None = None) -> dict[str, Any]:
    return entry(block_id, "output", {"name": name or block_id})


async def run(doc: Any, pipeline_input: Any = None, ctx: InMemoryContext | None = None, **kw: Any):
    return await run_pipeline(doc, pipeline_input or {}, ctx or InMemoryContext(), **kw)


def block_context(
    ctx: InMemoryContext | None = None, block_id: str = "b", block_type: str = "x"
) -> tuple[BlockContext, ExecutionProgress]:
    """A BlockContext outside a run (for calling a block's run() directly)."""
    progress = ExecutionProgress([(block_id, block_type, None)])
    state = RunState(ctx or InMemoryContext(), progress, {})
    return BlockContext(state, block_id, block_type), progress


async def run_block(
    type_name: str,
    config: dict[str, Any],
    inputs: dict[str, Any],
    ctx: InMemoryContext | None = None,
) -> dict[str, Any]:
    block_type = get_block_type(type_name)
    block_ctx, _ = block_context(ctx, "b", type_name)
    return await block_type.run(block_ctx, block_type.parse_config(config), inputs)


def assert_completed(result: RunResult) -> None:
    assert result.status == "completed", (result.error, result.progress_data.get("errors"))


# -- the probe block ----------------------------------------------------------------------------


@dataclass
class ProbeLog:
    active: int = 0
    peak: int = 0
    started: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)


LOG = ProbeLog()


class ProbeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay: float = 0.0
    fail: str | None = None  # raise BlockError(fail, ...)
    crash: bool = False  # raise a plain exception
    mutate: bool = False  # append to the input list / set a key (tests copies)
    ignore_cancel: bool = False  # keep running through one cancellation
    emit: Any = None  # output this instead of the input


class Probe(BlockType[ProbeConfig]):
    """Records starts, finishes and concurrency; sleeps, fails or mutates on request."""

    config_model = ProbeConfig
    inputs = (Port("data", primary=True), Port("items", multi=True))
    outputs = (Port("data", primary=True), Port("extra"))
    dynamic_inputs = True

    def ports(self, config: ProbeConfig) -> BlockPorts:
        return self.static_ports()

    async def run(
        self, ctx: BlockContext, config: ProbeConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        LOG.started.append(ctx.block_id)
        LOG.inputs[ctx.block_id] = inputs
        LOG.active += 1
        LOG.peak = max(LOG.peak, LOG.active)
        try:
            if config.delay:
                if config.ignore_cancel:
                    try:
                        await asyncio.sleep(config.delay)
                    except asyncio.CancelledError:
                        await asyncio.sleep(config.delay)
                else:
                    await asyncio.sleep(config.delay)
            else:
                await asyncio.sleep(0)
            if config.fail:
                raise BlockError(config.fail, f"{ctx.block_id} failed on purpose")
            if config.crash:
                raise RuntimeError("boom")
            value = inputs.get("data")
            if config.mutate:
                if isinstance(value, list):
                    value.append("mutated")
                elif isinstance(value, dict):
                    value["mutated"] = True
            LOG.finished.append(ctx.block_id)
            result = value if config.emit is None else config.emit
            return {"data": result, "extra": {"from": ctx.block_id}}
        except asyncio.CancelledError:
            LOG.cancelled.append(ctx.block_id)
            raise
        finally:
            LOG.active -= 1


def probe(block_id: str, **config: Any) -> dict[str, Any]:
    return entry(block_id, PROBE, config)
