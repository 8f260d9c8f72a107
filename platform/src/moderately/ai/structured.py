"""Structured output: the schema as the providers want it, the
reply's JSON value, its Draft 7 check and the one repair turn.

Providers' JSON and tool modes want an object at the root: any other schema is wrapped as
`{"value": <schema>}` and the value unwrapped. Values are checked with the engine's validator
(engine/jsonschemas.py: RE2 patterns, no retrieval), the same one that checks pipeline values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from moderately.engine.jsonschemas import SchemaValidator, describe_problems, schema_problems

from .calls import RawReply
from .types import AIError, Message

__all__ = ["OutputSchema", "output_instructions", "repair_messages"]

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)
_WRAPPED = "value"
_DEFINITIONS = ("definitions", "$defs")
# The model's faulty reply is repeated back at most this long in the repair turn.
_ECHO_CHARS = 20_000


class OutputSchema:
    """A block's `output_schema`, checked once, with its provider-facing (object) form."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        problems = schema_problems(schema)
        if problems:
            raise AIError(
                "invalid_output_schema", f"output_schema is not usable: {'; '.join(problems[:3])}"
            )
        self.schema = dict(schema)
        self.wrapped = self.schema.get("type") != "object"
        self.for_provider = _wrapped(self.schema) if self.wrapped else self.schema
        self._validator = SchemaValidator(self.schema)

    def value_of(self, reply: RawReply) -> tuple[Any, str | None]:
        """The reply's value and, when it does not do, why (for the repair turn)."""
        if reply.structured is not None:
            candidate: Any = reply.structured
        else:
            try:
                candidate = parse_json_text(reply.text)
            except ValueError as exc:
                return None, f"the reply is not JSON ({exc})"
        if self.wrapped and isinstance(candidate, dict) and set(candidate) == {_WRAPPED}:
            candidate = candidate[_WRAPPED]
        problems = self._validator.problems(candidate)
        if problems:
            return candidate, describe_problems(problems)
        return candidate, None


def _wrapped(schema: dict[str, Any]) -> dict[str, Any]:
    """`{"value": schema}` as an object schema; definitions move up to the new root, so the
    schema's `#/definitions/...` and `#/$defs/...` references still resolve."""
    inner = {key: value for key, value in schema.items() if key not in _DEFINITIONS}
    hoisted = {key: schema[key] for key in _DEFINITIONS if key in schema}
    return {
        "type": "object",
        "properties": {_WRAPPED: inner},
        "required": [_WRAPPED],
        **hoisted,
    }


def parse_json_text(text: str) -> Any:
    """The JSON value in a reply: the whole text, or the first fenced block in it."""
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except ValueError:
        fenced = _FENCE.search(stripped)
        if fenced is None:
            raise
        return json.loads(fenced.group(1).strip())


def output_instructions(schema: OutputSchema) -> str:
    """For the system text: servers without a JSON mode follow instructions."""
    return (
        "Reply with only a JSON value (no prose) that conforms to this JSON Schema:\n"
        + json.dumps(schema.for_provider, ensure_ascii=False)
    )


def repair_messages(reply: RawReply, problem: str) -> tuple[Message, Message]:
    """The faulty reply and the request to correct it, appended to the conversation."""
    said = json.dumps(reply.structured) if reply.structured is not None else reply.text
    return (
        Message("assistant", said[:_ECHO_CHARS] or "(no reply)"),
        Message(
            "user",
            f"That reply does not conform to the JSON Schema: {problem}. Reply again with only "
            "the corrected JSON value.",
        ),
    )
