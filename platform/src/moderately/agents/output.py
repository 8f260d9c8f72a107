"""The output rules of an agent run (docs/agents.md, the loop's Output).

The final answer must validate against `agentOutputSchema` (Draft 7, engine/jsonschemas.py).
When the schema describes an object, `agentOutput` is the answer itself; otherwise it is
`{"output": <answer>}`. `finalAnswer.output` is the answer as text (JSON for structured answers),
`agentOutputSummary` its first 500 characters, `finalAnswer.resourceIds` the files the run
created plus the team resource ids the answer names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from ..engine.jsonschemas import SchemaValidator, describe_problems, validator_for

SUMMARY_CHARS: Final = 500
_ID_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NON_STRING_TYPES: Final = frozenset({"object", "array", "number", "integer", "boolean", "null"})


class OutputRules:
    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = dict(schema)
        self.validator: SchemaValidator = validator_for(self.schema)
        kind = self.schema.get("type")
        self.is_object = kind == "object" or (kind is None and "properties" in self.schema)

    def normalize(self, answer: Any) -> Any:
        """A JSON text where the schema wants a structured value is parsed (models often send
        the answer object as a string)."""
        kind = self.schema.get("type")
        wants_structure = (isinstance(kind, str) and kind in _NON_STRING_TYPES) or self.is_object
        if isinstance(answer, str) and wants_structure:
            try:
                return json.loads(answer)
            except ValueError:
                return answer
        return answer

    def problems(self, answer: Any) -> str | None:
        """Why `answer` does not match the schema, or None."""
        found = self.validator.problems(answer)
        return describe_problems(found) if found else None

    def agent_output(self, answer: Any) -> dict[str, Any]:
        if self.is_object and isinstance(answer, dict):
            return answer
        return {"output": answer}

    @staticmethod
    def text(answer: Any) -> str:
        return answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)

    def summary(self, answer: Any) -> str:
        return self.text(answer)[:SUMMARY_CHARS]

    def final_answer(
        self, answer: Any, created: Iterable[str], team_ids: set[str]
    ) -> dict[str, Any]:
        """The `finalAnswer` payload of the final step."""
        text = self.text(answer)
        ids: dict[str, None] = dict.fromkeys(created)
        for token in _ID_TOKEN.findall(text):
            if token in team_ids:
                ids[token] = None
        return {"type": "final_answer", "output": text, "resourceIds": list(ids)}
