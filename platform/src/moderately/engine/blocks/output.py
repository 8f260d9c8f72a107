"""`output` (pipelines.md 2.3): publishes its value as `pipelineOutput[name]`.

With `json_schema`, the value must validate, else `output_schema_mismatch`.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft7Validator
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from ..context import BlockContext
from ..errors import BlockError
from ..jsonschemas import describe_problems, validator_for, value_problems
from ..ports import Port
from ..registry import BlockType, block


class OutputConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(default="output", description="Key of the value in pipelineOutput")
    json_schema: dict[str, Any] | None = Field(
        default=None, description="Draft 7 JSON Schema the value must satisfy"
    )
    _validator: Draft7Validator | None = PrivateAttr(default=None)

    def validator(self) -> Draft7Validator | None:
        if self.json_schema is None:
            return None
        if self._validator is None:
            self._validator = validator_for(self.json_schema)
        return self._validator


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
