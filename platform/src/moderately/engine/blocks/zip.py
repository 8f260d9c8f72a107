"""`zip` (pipelines.md 2.8): combines the values of its (dynamic) input ports.

Inputs are ordered by their connections' positions. Scalar mode (no input is an array):
`create_array` gives `[v1, v2, ...]`; `merge_objects` merges object inputs shallowly in order
(later keys win), a non-object `v` on port `p` contributing `{p: v}`. Array mode (some input is an
array): every array input must have the same length n (`zip_length_mismatch`), other inputs are
repeated, and element i is the scalar-mode combination of the i-th elements.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..context import BlockContext
from ..errors import BlockError
from ..ports import Port
from ..registry import BlockType, block


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
        return {
            "data": [
                combine(
                    config.combine_strategy,
                    [
                        (port, value[index] if isinstance(value, list) else value)
                        for port, value in items
                    ],
                )
                for index in range(count)
            ]
        }
