"""`json_template`: builds a JSON value from a template.

Every string of the template is rendered with the variables of `string_template`; a string that
is exactly one placeholder becomes the variable's value with its JSON type. Object keys are not
rendered. With no connected input, the template is emitted unchanged (and nothing is warned).
The result (as compact JSON) is bounded by `template_max_output_bytes`, checked while it is built.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..context import BlockContext
from ..ports import Port
from ..registry import BlockType, block
from ..templating import RenderMeter, render_json, template_variables
from ..values import copy_value
from .string_template import warn_missing


class JsonTemplateConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    template: Any = Field(description="Any JSON value whose strings may hold {{ path }}")


@block("json_template")
class JsonTemplate(BlockType[JsonTemplateConfig]):
    description = "Build a JSON value from a template ({{ path }} placeholders in strings)."
    config_model = JsonTemplateConfig
    inputs = (Port("data", primary=True),)
    outputs = (Port("data", primary=True),)
    dynamic_inputs = True

    async def run(
        self, ctx: BlockContext, config: JsonTemplateConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        if not inputs:
            return {"data": copy_value(config.template)}
        missing: list[str] = []
        meter = RenderMeter(ctx.budgets.template_max_output_bytes, what="rendered value")
        value = render_json(config.template, template_variables(inputs), missing, meter)
        warn_missing(ctx, missing)
        return {"data": value}
