"""`identity`: `data` in, the same value out; a named relay or fan-out point."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ..context import BlockContext
from ..ports import Port
from ..registry import BlockType, block


class IdentityConfig(BaseModel):
    model_config = ConfigDict(extra="allow")


@block("identity")
class Identity(BlockType[IdentityConfig]):
    description = "Pass the value through unchanged."
    config_model = IdentityConfig
    inputs = (Port("data", required=True, primary=True),)
    outputs = (Port("data", primary=True),)

    async def run(
        self, ctx: BlockContext, config: IdentityConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        return {"data": inputs.get("data")}
