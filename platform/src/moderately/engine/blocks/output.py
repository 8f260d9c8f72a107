"""`output`: publishes its value as `pipelineOutput[name]`.

With `json_schema`, the value must validate, else `output_schema_mismatch`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from ..context import BlockContext
from ..errors import BlockError
from ..jsonschemas import SchemaCheckedConfig, describe_problems, value_problems
from ..ports import Port
from ..registry import BlockType, block


class OutputConfig(SchemaCheckedConfig):
    model_config = ConfigDict(extra="allow")

    name: str = Field(default="output", description="Key of the value in pipelineOutput")


@block("output")
class Output(BlockType[OutputConfig]):
    description = "Publish a value as one entry of pipelineOutput."
    config_model = OutputConfig
    inputs = (Port("data", required=True, primary=True),)
    schema_fields = ("json_schema",)
    unique_name = ("name", "duplicate_output_name")
    map_target = False

    async def run(
        self, ctx: BlockContext, config: OutputConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        value = inputs.get("data")
        validator = config.validator()
        if validator is not None:
            problems = value_problems(validator, value)
            if problems:
                raise BlockError(
                    "output_schema_mismatch",
                    f"output '{config.name}' does not match its json_schema: "
                    + describe_problems(problems),
                )
        ctx.publish_output(config.name, value)
        return {}
