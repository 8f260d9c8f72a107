"""Draft 7 JSON Schema checks (the `jsonschema` package): schemas, values, reference formats.

Schemas come from users, so checking a value against one must never be dangerous:

* patterns (`pattern`, `patternProperties`, the properties `additionalProperties` leaves to them,
  `format: regex`) run on RE2 (`patterns.py`), never on Python's backtracking `re`;
* `$ref` resolves only within the schema itself (`#` or `#/json/pointer`): the registry refuses
  to retrieve anything, and `schema_problems` refuses any other `$ref` (and a `$id` or a
  `$schema` below the root, which would change what a local reference means or switch to a
  stock validator class) before the schema is used;
* a `$ref` cycle that never descends into the value (`{"$ref": "#"}`) is refused, and a schema
  is bounded in depth, size and number of patterns.

`format` keywords are not asserted when validating values: `file` and
`dataset` references are found with `reference_values` and checked against the team's storage
when the `input` block runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import unquote

import referencing
from jsonschema import Draft7Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from pydantic import BaseModel, Field, PrivateAttr

from .patterns import PatternError, compile_pattern, pattern_problem, search

ReferenceKind = Literal["file", "dataset"]

MAX_SCHEMA_DEPTH: Final = 64  # nesting of objects and arrays in one schema
MAX_SCHEMA_NODES: Final = 10_000  # values (objects, arrays, scalars) in one schema
MAX_SCHEMA_PATTERNS: Final = 100  # distinct regular expressions in one schema
MAX_SCHEMA_PROBLEMS: Final = 20  # problems reported for one schema

Path = tuple[str | int, ...]

# Draft 7 keywords, by what their value holds.
_DATA_KEYWORDS: Final = frozenset({"enum", "const", "default", "examples"})
_SCHEMA_MAPS: Final = frozenset(
    {"properties", "patternProperties", "definitions", "dependencies", "$defs"}
)
_IN_PLACE_LISTS: Final = ("allOf", "anyOf", "oneOf")  # applied to the value itself
_IN_PLACE_ONE: Final = ("not", "if", "then", "else")


def pointer(path: Any) -> str:
    """A JSON pointer (`/a/0/b`) for a jsonschema error path; `""` for the root."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


# -- the validator class: Draft 7 with RE2 patterns and no retrieval ---------------------------


def _pattern(validator: Any, pattern: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not search(pattern, instance):
        shown = repr(instance) if len(instance) <= 100 else repr(instance[:100]) + "..."
        yield ValidationError(f"{shown} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if search(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _unmatched_properties(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """The properties of `instance` that neither `properties` nor `patternProperties` cover."""
    named = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    return [
        name
        for name in instance
        if name not in named and not any(search(pattern, name) for pattern in patterns)
    ]


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    extras = _unmatched_properties(instance, schema)
    if validator.is_type(additional, "object"):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)
    elif additional is False and extras:
        listed = ", ".join(repr(name) for name in sorted(extras))
        if "patternProperties" in schema:
            regexes = ", ".join(repr(pattern) for pattern in sorted(schema["patternProperties"]))
            verb = "does" if len(extras) == 1 else "do"
            yield ValidationError(f"{listed} {verb} not match any of the regexes: {regexes}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(
                f"Additional properties are not allowed ({listed} {verb} unexpected)"
            )


_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("regex", raises=PatternError)
def _is_regex(instance: Any) -> bool:
    if isinstance(instance, str):
        compile_pattern(instance)
    return True


# Every validator the engine builds is of this class (never Draft7Validator itself).
SafeDraft7Validator: Final = validators.extend(
    Draft7Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
    format_checker=_FORMATS,
)


class RefusedRetrieval(Exception):
    """A schema reference outside the schema document: never retrieved."""


def _refuse_retrieval(uri: str) -> referencing.Resource[Any]:
    raise RefusedRetrieval(
        f"$ref '{uri}' is not allowed: only local references (#/...) are resolved"
    )


# attrs names the field `_retrieve` and takes it as `retrieve`, which mypy does not see.
_NO_RETRIEVAL: Final[referencing.Registry[Any]] = referencing.Registry(
    retrieve=_refuse_retrieval  # type: ignore[call-arg]
)


def _prepared(schema: Any) -> Any:
    """The root without `$schema` (the class stays ours when a `$ref` leads back to the root)
    and without `$id` (local references resolve against the document itself)."""
    if isinstance(schema, dict):
        return {key: value for key, value in schema.items() if key not in ("$schema", "$id")}
    return schema


def _build(schema: Any) -> Any:
    return SafeDraft7Validator(_prepared(schema), registry=_NO_RETRIEVAL)


_META = _build(Draft7Validator.META_SCHEMA)


# -- the structural walk ----------------------------------------------------------------------


def _size_problem(schema: Any) -> str | None:
    nodes = 0
    stack: list[tuple[Any, int]] = [(schema, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_SCHEMA_NODES:
            return f"the schema is too large (more than {MAX_SCHEMA_NODES} values)"
        if isinstance(node, dict | list):
            if depth > MAX_SCHEMA_DEPTH:
                return f"the schema is nested too deeply (more than {MAX_SCHEMA_DEPTH} levels)"
            stack.extend(
                (child, depth + 1) for child in (node.values() if isinstance(node, dict) else node)
            )
    return None


@dataclass
class _Walk:
    """Every place of a schema that is used as a schema, with what makes it unsafe."""

    root: Any
    problems: list[tuple[str, str]] = field(default_factory=list)
    schemas: dict[Path, dict[str, Any]] = field(default_factory=dict)
    refs: dict[Path, Path] = field(default_factory=dict)  # schema with a $ref -> its target
    patterns: set[str] = field(default_factory=set)
    pending: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)

    def run(self) -> list[tuple[str, str]]:
        if isinstance(self.root, dict):
            self.pending.append(((), self.root))
        while self.pending:
            path, node = self.pending.pop()
            if path not in self.schemas:
                self.schemas[path] = node
                self._visit(path, node)
        if not self.problems:
            self._cycles()
        return self.problems

    def _problem(self, path: Path, message: str) -> None:
        self.problems.append((pointer(path), message))

    def _visit(self, path: Path, node: dict[str, Any]) -> None:
        if path and "$schema" in node:
            self._problem((*path, "$schema"), "$schema is only allowed at the root of a schema")
        ident = node.get("$id")
        if path and isinstance(ident, str) and not ident.startswith("#"):
            self._problem(
                (*path, "$id"),
                f"$id '{ident}' is not allowed below the root: references resolve only within "
                "this schema",
            )
        ref = node.get("$ref")
        if isinstance(ref, str):
            self._reference(path, ref)
        if isinstance(node.get("pattern"), str):
            self._pattern((*path, "pattern"), node["pattern"])
        if isinstance(node.get("patternProperties"), dict):
            for pattern in node["patternProperties"]:
                self._pattern((*path, "patternProperties", pattern), pattern)
        for key, value in node.items():
            if key in _DATA_KEYWORDS:
                continue
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                self.pending.extend(
                    ((*path, key, name), sub)
                    for name, sub in value.items()
                    if isinstance(sub, dict)
                )
            elif isinstance(value, dict):  # a subschema (unknown keywords are treated alike)
                self.pending.append(((*path, key), value))
            elif isinstance(value, list):
                self.pending.extend(
                    ((*path, key, index), sub)
                    for index, sub in enumerate(value)
                    if isinstance(sub, dict)
                )

    def _pattern(self, path: Path, pattern: str) -> None:
        if pattern not in self.patterns:
            self.patterns.add(pattern)
            if len(self.patterns) == MAX_SCHEMA_PATTERNS + 1:
                self._problem(
                    path, f"the schema has too many patterns (more than {MAX_SCHEMA_PATTERNS})"
                )
            if len(self.patterns) > MAX_SCHEMA_PATTERNS:
                return
        problem = pattern_problem(pattern)
        if problem is not None:
            self._problem(path, problem)

    def _reference(self, path: Path, ref: str) -> None:
        where = (*path, "$ref")
        if ref != "#" and not ref.startswith("#/"):
            self._problem(
                where, f"$ref '{ref}' is not allowed: only local references (#/...) are resolved"
            )
            return
        found = self._resolve(ref)
        if found is None:
            self._problem(where, f"$ref '{ref}' points to nothing in this schema")
            return
        target_path, target = found
        if not isinstance(target, dict | bool):
            self._problem(where, f"$ref '{ref}' does not point to a schema")
            return
        if isinstance(target, dict):
            self.refs[path] = target_path
            self.pending.append((target_path, target))

    def _resolve(self, ref: str) -> tuple[Path, Any] | None:
        """What a local `$ref` points to, as `referencing` resolves it (root: the document)."""
        node = _prepared(self.root)
        path: list[str | int] = []
        if ref == "#":
            return (), self.root
        for segment in unquote(ref[2:]).split("/"):
            if isinstance(node, dict):
                key = segment.replace("~1", "/").replace("~0", "~")
                if key not in node:
                    return None
                node = node[key]
                path.append(key)
            elif isinstance(node, list) and segment.isascii() and segment.isdigit():
                index = int(segment)
                if index >= len(node):
                    return None
                node = node[index]
                path.append(index)
            else:
                return None
        return tuple(path), node

    def _in_place(self, path: Path) -> Iterator[Path]:
        """Schemas applied to the same value as the one at `path` (Draft 7 ignores the
        siblings of `$ref`)."""
        node = self.schemas[path]
        if "$ref" in node:
            if path in self.refs:
                yield self.refs[path]
            return
        for key in _IN_PLACE_LISTS:
            if isinstance(node.get(key), list):
                yield from ((*path, key, index) for index in range(len(node[key])))
        for key in _IN_PLACE_ONE:
            yield (*path, key)
        if isinstance(node.get("dependencies"), dict):
            yield from ((*path, "dependencies", name) for name in node["dependencies"])

    def _cycles(self) -> None:
        """Refuse a `$ref` cycle that never descends into the value (endless recursion)."""
        state: dict[Path, bool] = {}  # False: on the current path, True: done
        for start in list(self.schemas):
            if start in state:
                continue
            state[start] = False
            stack = [(start, self._in_place(start))]
            while stack:
                path, successors = stack[-1]
                following = next(successors, None)
                if following is None:
                    state[path] = True
                    stack.pop()
                elif following in self.schemas and following not in state:
                    state[following] = False
                    stack.append((following, self._in_place(following)))
                elif state.get(following) is False:
                    on_path = [place for place, _ in stack]
                    loop = [*on_path[on_path.index(following) :], following]
                    first_ref = next(place for place in loop if place in self.refs)
                    shown = " -> ".join("#" + pointer(place) for place in loop)
                    self._problem(
                        (*first_ref, "$ref"),
                        f"$ref cycle {shown} applies the schema to the same value without end",
                    )
                    return


def _hazards(schema: Any) -> list[tuple[str, str]]:
    """`(json pointer, message)` for what makes `schema` unsafe to apply (empty: safe)."""
    if not isinstance(schema, dict | bool):
        return [("", "must be a JSON Schema object")]
    size = _size_problem(schema)
    if size is not None:
        return [("", size)]
    return _Walk(schema).run()


def schema_problems(schema: Any) -> list[str]:
    """Why `schema` is not a valid Draft 7 schema the engine may use (empty when it is)."""
    if not isinstance(schema, dict | bool):
        return ["must be a JSON Schema object"]
    size = _size_problem(schema)
    if size is not None:
        return [f"(root): {size}"]
    found = _Walk(schema).run()
    try:
        found.extend(
            (pointer(error.absolute_path), error.message) for error in _META.iter_errors(schema)
        )
    except RecursionError:  # pragma: no cover - MAX_SCHEMA_DEPTH keeps far from the limit
        found.append(("", "the schema is nested too deeply to check"))
    found.sort(key=lambda problem: problem[0])
    shown = [f"{where or '(root)'}: {message}" for where, message in found[:MAX_SCHEMA_PROBLEMS]]
    if len(found) > MAX_SCHEMA_PROBLEMS:
        shown.append(f"(and {len(found) - MAX_SCHEMA_PROBLEMS} more problems)")
    return shown


# -- applying a schema --------------------------------------------------------------------------


class SchemaValidator:
    """A user-supplied Draft 7 schema, ready to check values: RE2 patterns, no retrieval, and
    checking never raises (a schema that is unsafe to apply reports so for every value)."""

    __slots__ = ("_refusal", "_validator", "schema")

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        hazards = _hazards(schema)
        self._refusal = f"{hazards[0][0] or '(root)'}: {hazards[0][1]}" if hazards else None
        self._validator = None if hazards else _build(schema)

    def problems(self, value: Any, *, limit: int = 20) -> list[tuple[str, str, Any]]:
        """`(json pointer, message, offending value)` for each way `value` misses the schema."""
        if self._validator is None:
            return [("", f"the schema cannot be applied: {self._refusal}", None)]
        problems: list[tuple[str, str, Any]] = []
        try:
            errors: Iterator[ValidationError] = self._validator.iter_errors(value)
            for error in errors:
                problems.append((pointer(error.absolute_path), error.message, error.instance))
                if len(problems) >= limit:
                    break
        except RecursionError:  # a recursive schema and a value nested deeper than Python goes
            problems.append(
                ("", "the schema cannot be applied: the value is nested too deeply", None)
            )
        except Exception as exc:  # an unresolvable $ref and the like surface only here
            problems.append(("", f"the schema cannot be applied: {exc}", None))
        problems.sort(key=lambda problem: problem[0])
        return problems

    def is_valid(self, value: Any) -> bool:
        return not self.problems(value, limit=1)


def validator_for(schema: dict[str, Any] | bool) -> SchemaValidator:
    return SchemaValidator(schema)


class SchemaCheckedConfig(BaseModel):
    """Block config with an optional `json_schema` its value must satisfy (output, artifact);
    the validator is built once per config, not once per value."""

    json_schema: dict[str, Any] | None = Field(
        default=None, description="Draft 7 JSON Schema the value must satisfy"
    )
    _validator: SchemaValidator | None = PrivateAttr(default=None)

    def validator(self) -> SchemaValidator | None:
        if self.json_schema is None:
            return None
        if self._validator is None:
            self._validator = validator_for(self.json_schema)
        return self._validator


def value_problems(
    validator: SchemaValidator, value: Any, *, limit: int = 20
) -> list[tuple[str, str, Any]]:
    """`(json pointer, message, offending value)` for each way `value` misses the schema."""
    return validator.problems(value, limit=limit)


def reference_values(schema: Any, value: Any) -> Iterator[tuple[ReferenceKind, str, str]]:
    """`(kind, id, json pointer)` for every string the schema marks `format: file|dataset`.

    Walks the schema together with the value: directly, through array `items` and through object
    `properties`. Non-string values at such places are skipped.
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
