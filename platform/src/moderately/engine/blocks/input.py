"""`input`: the entry point for one value of `pipelineInput`.

The value was looked up and validated against `json_schema` before the run started
(`execute.prepare_inputs`). When the block runs, every string the schema marks `format: file` or
`format: dataset` must name a completed file / a dataset with data of the execution's team, else
`reference_not_found`. The value flows out unchanged (ids, not contents).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..context import BlockContext
from ..errors import BlockError
from ..jsonschemas import reference_values
from ..ports import BlockPorts, Port, kind_of_schema
from ..registry import BlockType, block


class InputConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    json_schema: dict[str, Any] = Field(
        description="Draft 7 JSON Schema of the value; `format: file|dataset` marks references"
    )


@block("input")
class Input(BlockType[InputConfig]):
    description = "Entry point for one value of pipelineInput (keyed by the block id)."
    config_model = InputConfig
    outputs = (Port("data", primary=True),)
    schema_fields = ("json_schema",)
    map_target = False

    def ports(self, config: InputConfig) -> BlockPorts:
        return BlockPorts(
            outputs=(Port("data", primary=True, kind=kind_of_schema(config.json_schema)),)
        )

    async def run(
        self, ctx: BlockContext, config: InputConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        value = ctx.input_value()
        for kind, reference, pointer in reference_values(config.json_schema, value):
            where = f"{ctx.block_id}{pointer}"
            if kind == "file":
                if await ctx.run.get_file(reference) is None:
                    raise BlockError(
                        "reference_not_found", f"{where}: file '{reference}' not found"
                    )
            else:
                dataset = await ctx.run.get_dataset(reference)
                if dataset is None:
                    raise BlockError(
                        "reference_not_found", f"{where}: dataset '{reference}' not found"
                    )
                if not dataset.has_data:
                    raise BlockError(
                        "reference_not_found", f"{where}: dataset '{reference}' has no data"
                    )
        return {"data": value}
