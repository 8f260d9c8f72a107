"""The native Anthropic adapter (the `anthropic` package's AsyncAnthropic, Messages API).

The Messages API takes the system text apart from the messages, wants user and assistant turns
to alternate starting with a user turn, and non-empty text: `anthropic_messages` reshapes the
conversation so. Structured output is a forced tool whose input schema is the output schema;
`enable_reasoning` turns on extended thinking where the call allows it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import anthropic

from .calls import CallFailure, Completion, RawReply, body_excerpt, raw_body, token_count
from .openai_compat import OUTPUT_NAME, parse_arguments
from .options import DEFAULT_MAX_TOKENS
from .outbound import sdk_client
from .providers import Endpoint
from .types import Message, ToolCall

__all__ = ["AnthropicNative", "anthropic_messages"]

# Extended thinking needs a budget of at least this many tokens, below max_tokens.
_MIN_THINKING_BUDGET = 1024
_MAX_THINKING_BUDGET = 16_000
# Stands in for an empty turn, which the API refuses.
_EMPTY = "(empty)"
_OPENING = "(continue)"


def anthropic_messages(
    messages: Sequence[Message], system: str | None
) -> tuple[str | None, list[dict[str, Any]]]:
    """System text (the `system` argument and every system-role message, in order) and the
    user/assistant turns with consecutive same-role messages merged, opening with a user turn."""
    systems = [system] if system else []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            if message.content:
                systems.append(message.content)
            continue
        content = message.content or _EMPTY
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"] += "\n\n" + content
        else:
            turns.append({"role": message.role, "content": content})
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": _OPENING})
    return ("\n\n".join(systems) or None), turns


class AnthropicNative:
    def __init__(self, endpoint: Endpoint, *, timeout: float) -> None:
        self.endpoint = endpoint
        self._client = sdk_client(anthropic.AsyncAnthropic, endpoint, timeout=timeout)

    def request(self, call: Completion) -> dict[str, Any]:
        """The request body's fields for `messages.create`."""
        system, turns = anthropic_messages(call.messages, call.system)
        o = call.options
        max_tokens = o.max_tokens or DEFAULT_MAX_TOKENS
        request: dict[str, Any] = {"model": call.model, "max_tokens": max_tokens, "messages": turns}
        if system:
            request["system"] = system
        if o.stop:
            request["stop_sequences"] = list(o.stop)
        forced = call.output_schema is not None or call.require_tool
        thinking = o.enable_reasoning and not forced and max_tokens > 2 * _MIN_THINKING_BUDGET
        if thinking:
            # Thinking allows neither a forced tool nor changed sampling parameters.
            budget = min(max_tokens // 2, _MAX_THINKING_BUDGET)
            request["thinking"] = {"type": "enabled", "budget_tokens": budget}
        else:
            # Recent SDKs leave the sampling parameters out of `create`'s signature; the API
            # takes them in the body. Claude's temperature ends at 1, and recent models take
            # either temperature or top_p, not both.
            sampling: dict[str, Any] = {}
            if o.temperature is not None:
                sampling["temperature"] = min(o.temperature, 1.0)
            elif o.top_p is not None:
                sampling["top_p"] = o.top_p
            if o.top_k is not None:
                sampling["top_k"] = o.top_k
            if sampling:
                request["extra_body"] = sampling
        if call.output_schema is not None:
            request["tools"] = [
                {
                    "name": OUTPUT_NAME,
                    "description": "Give the answer as this tool's input.",
                    "input_schema": dict(call.output_schema),
                }
            ]
            request["tool_choice"] = {"type": "tool", "name": OUTPUT_NAME}
        elif call.tools:
            request["tools"] = [
                {
                    "name": tool.name,
                    "description": tool.description,
                    "input_schema": dict(tool.parameters),
                }
                for tool in call.tools
            ]
            request["tool_choice"] = {"type": "any" if call.require_tool else "auto"}
        return request

    async def complete(self, call: Completion) -> RawReply:
        create = self._client.messages.with_raw_response.create
        body = await raw_body(create, self.request(call), anthropic, self.endpoint)
        return self.parse(body, structured=call.output_schema is not None)

    def parse(self, body: bytes, *, structured: bool) -> RawReply:
        try:
            data = json.loads(body)
        except ValueError:
            raise CallFailure("protocol", body_excerpt(body)) from None
        content = data.get("content") if isinstance(data, dict) else None
        if not isinstance(content, list):
            raise CallFailure("protocol", f"no content in {body_excerpt(body)}")
        texts: list[str] = []
        calls: list[ToolCall] = []
        value: dict[str, Any] | None = None
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif block.get("type") == "tool_use" and isinstance(block.get("name"), str):
                arguments, problem = parse_arguments(block.get("input"))
                if structured and block["name"] == OUTPUT_NAME and problem is None:
                    value = arguments
                    continue
                calls.append(
                    ToolCall(
                        call_id=str(block.get("id") or f"toolu_{len(calls)}"),
                        name=block["name"],
                        arguments=arguments,
                        arguments_error=problem,
                    )
                )
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        stop = data.get("stop_reason")
        return RawReply(
            text="".join(texts),
            tool_calls=tuple(calls),
            input_tokens=token_count(usage.get("input_tokens"))
            + token_count(usage.get("cache_creation_input_tokens"))
            + token_count(usage.get("cache_read_input_tokens")),
            output_tokens=token_count(usage.get("output_tokens")),
            stop_reason=stop if isinstance(stop, str) else None,
            structured=value,
        )
