"""`artifact`: keeps a named intermediate value for inspection.

Validates against `json_schema` when set (`artifact_schema_mismatch`), records an envelope under
`progressData.artifacts[name]` (a large value, over 64 KiB as JSON, goes to object storage through
`RunContext.store_artifact` and the envelope holds its `uri`), and passes the value on.
"""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic import ConfigDict, Field

from ...timeutil import format_timestamp, utcnow
from ..context import BlockContext
from ..errors import BlockError
from ..jsonschemas import SchemaCheckedConfig, describe_problems, value_problems
from ..ports import Port
from ..registry import BlockType, block
from ..values import copy_value

INLINE_LIMIT: Final = 64 * 1024


class ArtifactConfig(SchemaCheckedConfig):
    model_config = ConfigDict(extra="allow")

    name: str = Field(default="artifact", description="Key under progressData.artifacts")
    description: str | None = None
    include_metadata: bool = Field(
        default=True, description="Record the full envelope, or only the value"
    )


@block("artifact")
class Artifact(BlockType[ArtifactConfig]):
    description = "Keep a named intermediate value of the execution (not a pipeline output)."
    config_model = ArtifactConfig
    inputs = (Port("data", required=True, primary=True),)
    outputs = (Port("data", primary=True),)
    schema_fields = ("json_schema",)
    unique_name = ("name", "duplicate_artifact_name")
    map_target = False

    async def run(
        self, ctx: BlockContext, config: ArtifactConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        value = inputs.get("data")
        validator = config.validator()
        if validator is not None:
            problems = value_problems(validator, value)
            if problems:
                raise BlockError(
                    "artifact_schema_mismatch",
                    f"artifact '{config.name}' does not match its json_schema: "
                    + describe_problems(problems),
                )
        envelope: dict[str, Any] = {}
        if config.include_metadata:
            envelope = {
                "name": config.name,
                "description": config.description,
                "block_id": ctx.block_id,
                "created_at": format_timestamp(utcnow()),
                "json_schema": config.json_schema,
            }
        encoded = json.dumps(value, ensure_ascii=False).encode()
        if len(encoded) > INLINE_LIMIT:
            envelope["uri"] = await ctx.run.store_artifact(config.name, encoded)
        else:
            envelope["value"] = copy_value(value)
        ctx.record_artifact(config.name, envelope)
        return {"data": value}
