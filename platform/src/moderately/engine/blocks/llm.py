"""`llm`: one chat-completion call through `ctx.ai.chat`.

Inputs: `messages` (primary: a string, one `{role, content}` object or a list of them),
`prompt` (a final user message), `system`, `datasets` (multi: ids, references or rows, each
given to the model as CSV), `context` (any JSON), `messages_template` (an object of variables
for `{{ path }}` placeholders in message contents and `prompt`). At least one of `messages` and
`prompt` is connected. Outputs `response` (alias `result`: the reply text, or the parsed JSON
value when `output_schema` is set) and `usage`; the tokens also add up in
`progressData.llm_usage`.

The system text is, separated by blank lines: the `system` value, the system-role messages, one
section per dataset (CSV, all datasets together capped at `DATASET_CONTEXT_CHARS` characters,
with a note where they were cut) and the `context` value as JSON under a heading.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from ...ai.types import PROVIDERS, AIError, ChatModels, Message, ModelChoice, Usage
from ..context import BlockContext
from ..errors import BlockError
from ..ports import Port
from ..registry import BlockType, block
from ..tables import csv_within, truncation_note
from ..templating import RenderMeter, render_text
from ..values import compact_json, describe, to_text
from .string_template import warn_missing

DATASET_CONTEXT_CHARS: Final = 200_000  # all dataset sections of one call together
ROLES: Final = ("system", "user", "assistant")

Provider = Literal["openai", "anthropic", "cohere", "groq", "cerebras", "google", "vertexai"]
Tier = Literal["small", "medium", "large"]
assert set(get_args(Provider)) == set(PROVIDERS)


class LlmConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    provider: Provider = Field(description="LLM provider (credentials are server settings)")
    model: Tier = Field(default="small", description="Model tier, resolved by the server")
    model_override: str | None = Field(
        default=None, min_length=1, max_length=200, description="Exact provider model name"
    )
    temperature: float = Field(default=0.2, ge=0, le=2)
    max_tokens: int = Field(default=8192, gt=0, le=100_000, description="Reply token limit")
    output_schema: dict[str, Any] | None = Field(
        default=None, description="JSON Schema (Draft 7) the reply must conform to"
    )


# -- messages ---------------------------------------------------------------------------------


def content_text(content: Any) -> str:
    """A message content as text: strings as they are, a list of parts concatenated (text
    parts: strings or objects with `text`), null as "", any other JSON serialised."""
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if isinstance(content, list):
        texts: list[str] = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
        return "".join(texts)
    return compact_json(content)


def to_messages(value: Any, *, port: str = "messages") -> list[tuple[str, str]]:
    """`(role, content)` pairs from a `messages` value; `invalid_message_role` for a role other
    than system, user and assistant (or none), `invalid_input` for another shape."""
    items = value if isinstance(value, list) else [value]
    pairs: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            pairs.append(("user", item))
            continue
        if not isinstance(item, dict):
            raise BlockError(
                "invalid_input",
                f"'{port}' item {index} must be a string or a {{role, content}} object, "
                f"got {describe(item)}",
            )
        role = item.get("role")
        if role not in ROLES:
            shown = "no role" if role is None else f"role {compact_json(role)[:60]}"
            raise BlockError(
                "invalid_message_role",
                f"'{port}' item {index} has {shown} (allowed: {', '.join(ROLES)})",
            )
        pairs.append((str(role), content_text(item.get("content"))))
    return pairs


# -- dataset context --------------------------------------------------------------------------


def dataset_refs(value: Any) -> list[Any]:
    """The `datasets` port's values as references or row lists: rows that arrive one by one
    (a `dataset` block's rows on the multi port are flattened into it) are regrouped."""
    refs: list[Any] = []
    rows: list[dict[str, Any]] = []
    for item in value if isinstance(value, list) else [value]:
        is_row = isinstance(item, dict) and not ({"dataset_id", "datasetId"} & item.keys())
        if is_row:
            rows.append(item)
            continue
        if rows:
            refs.append(rows)
            rows = []
        refs.append(item)
    if rows:
        refs.append(rows)
    return refs


async def dataset_sections(
    ctx: BlockContext, value: Any, limit: int = DATASET_CONTEXT_CHARS
) -> list[str]:
    """One `Dataset <name>` section per dataset, as CSV, all within `limit` characters; the
    dataset that reaches it is cut with a note, later ones are not loaded."""
    sections: list[str] = []
    refs = dataset_refs(value)
    left = limit
    for position, ref in enumerate(refs):
        if left <= 0:
            sections.append(
                f"[{len(refs) - position} more dataset(s) not included: the dataset context is "
                f"limited to {limit:,} characters]"
            )
            break
        loaded = await ctx.load_rows(ref, port="datasets")
        title = loaded.name or loaded.dataset_id or f"rows {position + 1}"
        text, shown = csv_within(loaded, left)
        left = 0 if shown < len(loaded.rows) else left - len(text) - 1
        section = f"Dataset {title} ({len(loaded.rows)} rows, CSV):\n{text}"
        if shown < len(loaded.rows):
            section += "\n" + truncation_note(shown, len(loaded.rows), limit)
        sections.append(section)
    return sections


# -- the call ---------------------------------------------------------------------------------


def choose_model(
    chat: ChatModels, provider: str | None, tier: str | None, model_override: str | None = None
) -> ModelChoice:
    try:
        return chat.choose(provider, tier, model_override)
    except AIError as exc:
        raise BlockError(exc.error_type, exc.message) from None


async def structured_call(
    ctx: BlockContext,
    choice: ModelChoice,
    messages: Sequence[Message],
    *,
    schema: dict[str, Any],
    system: str | None,
    temperature: float | None,
    max_tokens: int | None,
) -> tuple[Any, Usage]:
    """A JSON value valid against `schema`; usage counted; AI errors become block errors."""
    try:
        value, usage = await ctx.ai.chat.structured(
            choice,
            messages,
            schema=schema,
            system=system,
            temperature=temperature,
            max_tokens=max_tokens,
        )
    except AIError as exc:
        raise BlockError(exc.error_type, exc.message) from None
    ctx.add_llm_usage(usage)
    return value, usage


async def text_call(
    ctx: BlockContext,
    choice: ModelChoice,
    messages: Sequence[Message],
    *,
    system: str | None,
    temperature: float | None,
    max_tokens: int | None,
) -> tuple[str, Usage]:
    try:
        reply = await ctx.ai.chat.chat(
            choice, messages, system=system, temperature=temperature, max_tokens=max_tokens
        )
    except AIError as exc:
        raise BlockError(exc.error_type, exc.message) from None
    ctx.add_llm_usage(reply.usage)
    return reply.text, reply.usage


@block("llm")
class Llm(BlockType[LlmConfig]):
    description = "One chat-completion call (messages, prompt, dataset context, JSON output)."
    config_model = LlmConfig
    inputs = (
        Port("messages", primary=True, kind="messages"),
        Port("prompt", kind="string"),
        Port("system", kind="string"),
        Port("datasets", multi=True, kind="dataset_refs"),
        Port("context"),
        Port("messages_template", kind="object"),
    )
    outputs = (
        Port("response", primary=True, aliases=("result",)),
        Port("usage", kind="object"),
    )
    schema_fields = ("output_schema",)
    required_one_of = ("messages", "prompt")

    async def run(
        self, ctx: BlockContext, config: LlmConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        if "messages" not in inputs and "prompt" not in inputs:
            raise BlockError("missing_required_input", "connect 'messages' or 'prompt'")
        pairs = to_messages(inputs["messages"]) if "messages" in inputs else []
        if "prompt" in inputs:
            pairs.append(("user", to_text(inputs["prompt"])))
        if "messages_template" in inputs:
            pairs = self._render(ctx, pairs, inputs["messages_template"])
        system_parts = [to_text(inputs["system"])] if inputs.get("system") is not None else []
        system_parts.extend(content for role, content in pairs if role == "system")
        if "datasets" in inputs:
            system_parts.extend(await dataset_sections(ctx, inputs["datasets"]))
        if "context" in inputs:
            system_parts.append(f"Context (JSON):\n{compact_json(inputs['context'])}")
        messages = [
            Message(role, content)  # type: ignore[arg-type]
            for role, content in pairs
            if role != "system"
        ]
        if not messages:
            raise BlockError(
                "invalid_input", "there is no user or assistant message to send (only system)"
            )
        system = "\n\n".join(part for part in system_parts if part.strip()) or None
        choice = choose_model(ctx.ai.chat, config.provider, config.model, config.model_override)
        response: Any
        if config.output_schema is not None:
            response, usage = await structured_call(
                ctx,
                choice,
                messages,
                schema=config.output_schema,
                system=system,
                temperature=config.temperature,
                max_tokens=config.max_tokens,
            )
        else:
            response, usage = await text_call(
                ctx,
                choice,
                messages,
                system=system,
                temperature=config.temperature,
                max_tokens=config.max_tokens,
            )
        return {"response": response, "usage": usage.as_dict()}

    @staticmethod
    def _render(
        ctx: BlockContext, pairs: list[tuple[str, str]], variables: Any
    ) -> list[tuple[str, str]]:
        if not isinstance(variables, dict):
            raise BlockError(
                "invalid_input",
                f"'messages_template' must be an object of variables, got {describe(variables)}",
            )
        missing: list[str] = []
        meter = RenderMeter(ctx.budgets.template_max_output_bytes, what="rendered messages")
        rendered = [(role, render_text(text, variables, missing, meter)) for role, text in pairs]
        warn_missing(ctx, missing)
        return rendered
