"""Draft 7 JSON Schema checks (the `jsonschema` package): schemas, values, reference formats.

`format` keywords are not asserted when validating values (pipelines.md 2.2): `file` and
`dataset` references are found with `reference_values` and checked against the team's storage
when the `input` block runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from pydantic import BaseModel, Field, PrivateAttr

ReferenceKind = Literal["file", "dataset"]

_META = Draft7Validator(Draft7Validator.META_SCHEMA)


def pointer(path: Any) -> str:
    """A JSON pointer (`/a/0/b`) for a jsonschema error path; `""` for the root."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def schema_problems(schema: Any) -> list[str]:
    """Why `schema` is not a valid Draft 7 schema (empty when it is)."""
    if not isinstance(schema, dict | bool):
        return ["must be a JSON Schema object"]
    errors = sorted(_META.iter_errors(schema), key=lambda error: pointer(error.absolute_path))
    return [f"{pointer(error.absolute_path) or '(root)'}: {error.message}" for error in errors]


def validator_for(schema: dict[str, Any] | bool) -> Draft7Validator:
    return Draft7Validator(schema)


class SchemaCheckedConfig(BaseModel):
    """Block config with an optional `json_schema` its value must satisfy (output, artifact);
    the validator is built once per config, not once per value."""

    json_schema: dict[str, Any] | None = Field(
        default=None, description="Draft 7 JSON Schema the value must satisfy"
    )
    _validator: Draft7Validator | None = PrivateAttr(default=None)

    def validator(self) -> Draft7Validator | None:
        if self.json_schema is None:
            return None
        if self._validator is None:
            self._validator = validator_for(self.json_schema)
        return self._validator


def value_problems(
    validator: Draft7Validator, value: Any, *, limit: int = 20
) -> list[tuple[str, str, Any]]:
    """`(json pointer, message, offending value)` for each way `value` misses the schema."""
    problems: list[tuple[str, str, Any]] = []
    try:
        errors: Iterator[ValidationError] = validator.iter_errors(value)
        for error in errors:
            problems.append((pointer(error.absolute_path), error.message, error.instance))
            if len(problems) >= limit:
                break
    except Exception as exc:  # an unresolvable $ref and the like surface only here
        problems.append(("", f"the schema cannot be applied: {exc}", None))
    problems.sort(key=lambda problem: problem[0])
    return problems


def reference_values(schema: Any, value: Any) -> Iterator[tuple[ReferenceKind, str, str]]:
    """`(kind, id, json pointer)` for every string the schema marks `format: file|dataset`.

    Walks the schema together with the value: directly, through array `items` and through object
    `properties` (pipelines.md 2.2 step 3). Non-string values at such places are skipped.
    """
    yield from _walk(schema, value, "")


def _walk(schema: Any, value: Any, path: str) -> Iterator[tuple[ReferenceKind, str, str]]:
    if not isinstance(schema, dict):
        return
    fmt = schema.get("format")
    if fmt in ("file", "dataset") and isinstance(value, str):
        yield ("file" if fmt == "file" else "dataset"), value, path
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        for index, item in enumerate(value):
            yield from _walk(items, item, f"{path}/{index}")
    properties = schema.get("properties")
    if isinstance(value, dict) and isinstance(properties, dict):
        for key, sub in properties.items():
            if key in value:
                yield from _walk(sub, value[key], f"{path}/{key}")


def describe_problems(problems: list[tuple[str, str, Any]], *, shown: int = 5) -> str:
    """`/a/0: message; ...` for the first few problems, for error messages."""
    text = "; ".join(f"{path or '(root)'}: {message}" for path, message, _ in problems[:shown])
    if len(problems) > shown:
        text += f" (and {len(problems) - shown} more)"
    return text
