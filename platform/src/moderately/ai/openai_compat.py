"""The OpenAI-compatible chat-completions adapter (the `openai` package's AsyncOpenAI).

Speaks for openai, groq, cerebras, google (Gemini's OpenAI-compatible endpoint), cohere and
vertexai (their compatibility endpoints), and any local Ollama, vLLM or llama.cpp server
through the base URL. The reply is read from the raw JSON, not the SDK's models, so a
compatible server that leaves out a field the SDK types require still works, and a body that
is not chat-completions JSON is named as such.
"""

from __future__ import annotations

import json
import re
from typing import Any

import openai

from .calls import CallFailure, Completion, RawReply, body_excerpt, raw_body, token_count
from .outbound import sdk_client
from .providers import Endpoint
from .types import ToolCall

__all__ = ["OpenAICompatible", "parse_arguments"]

# OpenAI's reasoning models take no sampling parameters and have a reasoning effort.
_OPENAI_REASONING = re.compile(r"^(o\d|gpt-5)")
# Models elsewhere that accept `reasoning_effort` (groq and cerebras serve gpt-oss).
_OTHER_REASONING = re.compile(r"(^|/)gpt-oss")
OUTPUT_NAME = "output"


def parse_arguments(raw: Any) -> tuple[dict[str, Any], str | None]:
    """A tool call's arguments and, when they are not a JSON object, why (the agent runtime
    reports that to the model as the observation instead of running the tool)."""
    if isinstance(raw, dict):
        return raw, None
    if raw is None or raw == "":
        return {}, None
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        return {}, f"the tool arguments are not valid JSON: {exc}"
    if not isinstance(value, dict):
        return {}, "the tool arguments are not a JSON object"
    return value, None


def _protocol_error(detail: str) -> CallFailure:
    return CallFailure("protocol", detail)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


class OpenAICompatible:
    def __init__(self, endpoint: Endpoint, *, timeout: float) -> None:
        self.endpoint = endpoint
        self._client = sdk_client(openai.AsyncOpenAI, endpoint, timeout=timeout)

    def request(self, call: Completion) -> dict[str, Any]:
        """The request body's fields for `chat.completions.create`."""
        messages: list[dict[str, Any]] = []
        if call.system:
            messages.append({"role": "system", "content": call.system})
        messages.extend({"role": m.role, "content": m.content} for m in call.messages)
        request: dict[str, Any] = {"model": call.model, "messages": messages}
        o = call.options
        is_openai = self.endpoint.provider == "openai"
        reasoning_model = bool(
            (is_openai and _OPENAI_REASONING.match(call.model))
            or _OTHER_REASONING.search(call.model)
        )
        fixed_sampling = is_openai and bool(_OPENAI_REASONING.match(call.model))
        if not fixed_sampling:
            for name in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
                value = getattr(o, name)
                if value is not None:
                    request[name] = value
        if o.max_tokens is not None:
            # OpenAI deprecated max_tokens; compatible servers know the old name.
            request["max_completion_tokens" if is_openai else "max_tokens"] = o.max_tokens
        if o.stop:
            request["stop"] = list(o.stop)
        if o.seed is not None:
            request["seed"] = o.seed
        if o.enable_reasoning and reasoning_model:
            request["reasoning_effort"] = "medium"
        if call.tools:
            request["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": dict(tool.parameters),
                    },
                }
                for tool in call.tools
            ]
            request["tool_choice"] = "required" if call.require_tool else "auto"
        if call.output_schema is not None:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": OUTPUT_NAME, "schema": dict(call.output_schema)},
            }
        return request

    async def complete(self, call: Completion) -> RawReply:
        create = self._client.chat.completions.with_raw_response.create
        body = await raw_body(create, self.request(call), openai, self.endpoint)
        return self.parse(body)

    def parse(self, body: bytes) -> RawReply:
        try:
            data = json.loads(body)
        except ValueError:
            raise _protocol_error(body_excerpt(body)) from None
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise _protocol_error(f"no choices in {body_excerpt(body)}")
        message = choices[0].get("message")
        if not isinstance(message, dict):
            raise _protocol_error(f"no message in {body_excerpt(body)}")
        calls: list[ToolCall] = []
        for index, item in enumerate(message.get("tool_calls") or ()):
            function = item.get("function") if isinstance(item, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                raise _protocol_error(
                    f"a tool call without a function name in {body_excerpt(body)}"
                )
            arguments, problem = parse_arguments(function.get("arguments"))
            calls.append(
                ToolCall(
                    call_id=str(item.get("id") or f"call_{index}"),
                    name=function["name"],
                    arguments=arguments,
                    arguments_error=problem,
                )
            )
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        finish = choices[0].get("finish_reason")
        return RawReply(
            text=_text(message.get("content")),
            tool_calls=tuple(calls),
            input_tokens=token_count(usage.get("prompt_tokens")),
            output_tokens=token_count(usage.get("completion_tokens")),
            stop_reason=finish if isinstance(finish, str) else None,
        )
