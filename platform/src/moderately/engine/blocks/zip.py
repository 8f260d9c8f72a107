"""`zip`: combines the values of its (dynamic) input ports.

Inputs are ordered by their connections' positions. Scalar mode (no input is an array):
`create_array` gives `[v1, v2, ...]`; `merge_objects` merges object inputs shallowly in order
(later keys win), a non-object `v` on port `p` contributing `{p: v}`. Array mode (some input is an
array): every array input must have the same length n (`zip_length_mismatch`), other inputs are
repeated, and element i is the scalar-mode combination of the i-th elements.

Repeating a value n times can multiply its size (as JSON; in memory too with `merge_objects`,
whose objects are copied): when n times the repeated inputs' size passes `max_value_bytes`, the
block fails with `resource_limit` before building anything. It yields to the event loop every
`YIELD_EVERY` elements.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..budgets import format_bytes, json_size
from ..context import BlockContext
from ..errors import BlockError
from ..ports import Port
from ..registry import BlockType, block

YIELD_EVERY: Final = 4096  # elements combined between two turns of the event loop


class ZipConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    combine_strategy: Literal["merge_objects", "create_array"] = Field(
        default="merge_objects", description="Merge objects, or make an array of the inputs"
    )


def combine(strategy: str, items: list[tuple[str, Any]]) -> Any:
    if strategy == "create_array":
        return [value for _, value in items]
    merged: dict[str, Any] = {}
    for port, value in items:
        if isinstance(value, dict):
            merged.update(value)
        else:
            merged[port] = value
    return merged


@block("zip")
class Zip(BlockType[ZipConfig]):
    description = "Combine several values (merge objects or build arrays), element-wise for arrays."
    config_model = ZipConfig
    outputs = (Port("data", primary=True),)
    dynamic_inputs = True
    min_connections = 1
    map_target = False

    async def run(
        self, ctx: BlockContext, config: ZipConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        items = list(inputs.items())
        lengths = {port: len(value) for port, value in items if isinstance(value, list)}
        if not lengths:
            return {"data": combine(config.combine_strategy, items)}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{port}: {length}" for port, length in lengths.items())
            raise BlockError("zip_length_mismatch", f"array inputs differ in length ({shown})")
        count = next(iter(lengths.values()))
        repeated = [value for _, value in items if not isinstance(value, list)]
        if count and repeated:
            budgets = ctx.budgets
            room = budgets.max_value_bytes // count
            each = json_size(repeated, room)
            if each > room:
                raise budgets.exceeded(
                    "max_value_bytes",
                    f"repeating the non-array inputs ({format_bytes(each)} or more) for "
                    f"{count:,} elements makes at least {format_bytes(each * count)}",
                )
        data = []
        for index in range(count):
            data.append(
                combine(
                    config.combine_strategy,
                    [
                        (port, value[index] if isinstance(value, list) else value)
                        for port, value in items
                    ],
                )
            )
            if index % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
        return {"data": data}
