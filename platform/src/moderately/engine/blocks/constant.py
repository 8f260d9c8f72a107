"""`constant`: emits a deep copy of `config_value` (null when absent)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..context import BlockContext
from ..ports import Port
from ..registry import BlockType, block
from ..values import copy_value


class ConstantConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    config_value: Any = Field(default=None, description="Any JSON value; absent means null")


@block("constant")
class Constant(BlockType[ConstantConfig]):
    description = "Inject a fixed value."
    config_model = ConstantConfig
    outputs = (Port("data", primary=True),)
    map_target = False

    async def run(
        self, ctx: BlockContext, config: ConstantConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        return {"data": copy_value(config.config_value)}
