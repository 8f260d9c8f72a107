"""`string_template`: renders a text from variables.

Variables: the keys of an object on `data` (or that value as `data`), then every other connected
port by name. Strings are inserted as they are, other values as compact JSON. An unresolved
placeholder stays verbatim and adds a warning to `progressData.warnings`. The rendered text is
bounded by the `template_max_output_bytes` budget, checked while it is built.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..context import BlockContext
from ..ports import Port
from ..registry import BlockType, block
from ..templating import RenderMeter, render_text, template_variables


class StringTemplateConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    template: str = Field(description="Text with {{ path }} placeholders")
    strip_whitespace: bool = Field(default=True, description="Strip the rendered text")


def warn_missing(ctx: BlockContext, missing: list[str]) -> None:
    for path in dict.fromkeys(missing):
        ctx.warn(f"unresolved placeholder {{{{{path}}}}} left as is")


@block("string_template")
class StringTemplate(BlockType[StringTemplateConfig]):
    description = "Render a text from variables ({{ path }} placeholders)."
    config_model = StringTemplateConfig
    inputs = (Port("data", primary=True),)
    outputs = (Port("data", primary=True, kind="string"),)
    dynamic_inputs = True

    async def run(
        self, ctx: BlockContext, config: StringTemplateConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        missing: list[str] = []
        meter = RenderMeter(ctx.budgets.template_max_output_bytes)
        text = render_text(config.template, template_variables(inputs), missing, meter)
        warn_missing(ctx, missing)
        return {"data": text.strip() if config.strip_whitespace else text}
