"""`map`: runs one block type per element of an array, `max_concurrency` at a
time (floored, at least 1), results in input order.

Element i goes to the target's primary input port; every other connected port of the map is a
broadcast port: an input port of the target type, whose value every item receives. Inner blocks
are named `<map id>[<i>]`. The first failing item fails the map (`map_item_failed`): no further
item starts and running ones are cancelled. Items are taken from a shared counter by at most
`max_concurrency` workers, so exactly that many run at once, whatever the array's size.

Budgets: an array longer than `map_max_items` fails the map before any item starts; the
concurrency is at most `map_max_concurrency`; the results together are bounded by
`max_value_bytes` as they arrive; an item that passes a budget fails the map with that
`resource_limit` error (prefixed with the item). Workers yield to the event loop every
`YIELD_EVERY` items, so cancellation reaches a map of fast synchronous items too.
"""

from __future__ import annotations

import asyncio
import logging
from types import MappingProxyType
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from ..budgets import ResourceLimitError, format_bytes, json_size
from ..context import BlockContext
from ..errors import BlockError, internal_error_text
from ..ports import BlockPorts, Port
from ..registry import (
    BlockType,
    ConfigIssue,
    block,
    find_block_type,
    floor_at_least_one,
)
from ..values import describe

logger = logging.getLogger(__name__)


class MapConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    target_block_type: str = Field(description="Block type run once per element")
    target_config: dict[str, Any] = Field(
        default_factory=dict, description="Config of the inner blocks (their defaults apply)"
    )
    max_concurrency: float = Field(default=5, ge=1, description="Items run at once (floored)")


YIELD_EVERY: Final = 32  # items a worker runs between two turns of the event loop

_OUTPUTS = (Port("data", primary=True, kind="array"),)
_DATA = Port("data", required=True, primary=True, kind="array")


def _target(config: MapConfig) -> tuple[BlockType[Any], Any] | None:
    """The target type and its parsed config, or None when either is unusable."""
    target = find_block_type(config.target_block_type)
    if target is None or not target.map_target or target.static_ports().primary_input is None:
        return None
    target_config, issues = target.load_config(config.target_config)
    if target_config is None or issues:
        return None
    return target, target_config


@block("map")
class Map(BlockType[MapConfig]):
    description = "Run one block type per element of an array, with bounded concurrency."
    config_model = MapConfig
    inputs = (_DATA,)
    outputs = _OUTPUTS
    field_error_types = MappingProxyType({"max_concurrency": "invalid_map_target"})
    unknown_input_error = "invalid_map_target"

    def ports(self, config: MapConfig) -> BlockPorts:
        found = _target(config)
        if found is None:
            return self.fallback_ports()
        target, target_config = found
        inner = target.ports(target_config)
        broadcast = tuple(port for port in inner.inputs if not port.primary)
        return BlockPorts((_DATA, *broadcast), _OUTPUTS, inner.dynamic_inputs)

    def fallback_ports(self) -> BlockPorts:
        return BlockPorts((_DATA,), _OUTPUTS, dynamic_inputs=True)

    def check(self, config: MapConfig) -> list[ConfigIssue]:
        name = config.target_block_type
        target = find_block_type(name)
        if target is None:
            return [ConfigIssue("invalid_map_target", f"target_block_type: unknown type '{name}'")]
        if not target.map_target or target.static_ports().primary_input is None:
            return [
                ConfigIssue(
                    "invalid_map_target",
                    f"target_block_type: '{name}' cannot be a map target (a target needs a "
                    "primary input and cannot be input, output or artifact)",
                )
            ]
        _, issues = target.load_config(config.target_config, path="target_config")
        return [
            ConfigIssue("invalid_map_target", issue.message, issue.port_name) for issue in issues
        ]

    async def run(
        self, ctx: BlockContext, config: MapConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        items = inputs.get("data")
        if not isinstance(items, list):
            raise BlockError(
                "map_input_not_array", f"'data' must be an array, got {describe(items)}"
            )
        count = len(items)
        budgets = ctx.budgets
        if count > budgets.map_max_items:
            raise budgets.exceeded("map_max_items", f"the input array has {count:,} items")
        await ctx.items_progress(total=count, completed=0)
        if count == 0:
            return {"data": []}
        target = find_block_type(config.target_block_type)
        if target is None:  # validated earlier; a type unregistered since
            raise BlockError("invalid_map_target", f"unknown type '{config.target_block_type}'")
        target_config = target.parse_config(config.target_config)
        ports = target.ports(target_config)
        primary_in = ports.primary_input
        primary_out = ports.primary_output
        assert primary_in is not None
        broadcast = {name: value for name, value in inputs.items() if name != "data"}
        results: list[Any] = [None] * count
        cursor = 0
        completed = 0
        value_limit = budgets.max_value_bytes
        results_bytes = 1 + count  # brackets and commas of the result array

        async def worker() -> None:
            nonlocal cursor, completed, results_bytes
            ran = 0
            while cursor < count:
                if ctx.cancelled():
                    raise asyncio.CancelledError
                index = cursor
                cursor += 1
                item_ctx = ctx.child(f"{ctx.block_id}[{index}]", target.type_name)
                item_inputs = dict(broadcast)
                item_inputs[primary_in.name] = items[index]
                try:
                    outputs = await target.run(item_ctx, target_config, item_inputs)
                except ResourceLimitError as exc:
                    raise exc.within(f"item {index} ({item_ctx.block_id})") from exc
                except BlockError as exc:
                    raise BlockError(
                        "map_item_failed",
                        f"item {index} ({item_ctx.block_id}) failed: {exc.error_type}: "
                        f"{exc.message}",
                    ) from exc
                except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
                    raise
                except Exception as exc:
                    logger.error("map item %s raised", item_ctx.block_id, exc_info=exc)
                    raise BlockError(
                        "map_item_failed",
                        f"item {index} ({item_ctx.block_id}) failed: internal_error: "
                        f"{internal_error_text(exc)}",
                    ) from exc
                result = outputs.get(primary_out.name) if primary_out else None
                room = value_limit - results_bytes
                size = json_size(result, max(room, 0))
                results_bytes += size
                if size > room:
                    raise budgets.exceeded(
                        "max_value_bytes",
                        f"the results are at least {format_bytes(results_bytes)} after "
                        f"{completed + 1:,} of {count:,} items",
                    )
                results[index] = result
                completed += 1
                await ctx.items_progress(completed=completed)
                ran += 1
                if ran % YIELD_EVERY == 0:
                    await asyncio.sleep(0)

        workers = [
            asyncio.create_task(worker(), name=f"{ctx.block_id}:worker{number}")
            for number in range(
                min(floor_at_least_one(config.max_concurrency), budgets.map_max_concurrency, count)
            )
        ]
        try:
            await _first_failure(workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return {"data": results}


async def _first_failure(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for every task; re-raise the first failure (in completion order)."""
    pending = set(tasks)
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:
            if task in done and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        for task in done:
            if task.cancelled():
                raise asyncio.CancelledError
