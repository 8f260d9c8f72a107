"""Port declarations: name, required, multi, primary (the `data` alias), kind.

A block type declares its static ports; blocks whose ports depend on their configuration (`zip`,
`join`, `map`, the templates) derive a `BlockPorts` from it. Lookups resolve the `data` alias to
the primary port of that direction and accept any name on a block with dynamic inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

DATA: Final = "data"

PortKind = Literal[
    "any",
    "string",
    "number",
    "boolean",
    "object",
    "array",
    "rows",
    "messages",
    "file_ref",
    "dataset_ref",
    "dataset_refs",
]


@dataclass(frozen=True, slots=True)
class Port:
    name: str
    required: bool = False
    multi: bool = False  # receives the list of all incoming values (flattened one level)
    primary: bool = False  # addressed by `data` as well as by its name
    kind: PortKind = "any"  # for the `type_mismatch` warning (W2)
    aliases: tuple[str, ...] = ()  # other names of the same port (e.g. llm `result`)

    def matches(self, name: str) -> bool:
        return name == self.name or name in self.aliases


@dataclass(frozen=True, slots=True)
class BlockPorts:
    """The ports of one configured block."""

    inputs: tuple[Port, ...] = ()
    outputs: tuple[Port, ...] = ()
    dynamic_inputs: bool = False  # any other input name is an optional single-connection port

    @property
    def primary_input(self) -> Port | None:
        return next((port for port in self.inputs if port.primary), None)

    @property
    def primary_output(self) -> Port | None:
        return next((port for port in self.outputs if port.primary), None)

    def input(self, name: str) -> Port | None:
        """The input port `name` addresses (after the `data` alias), or None if there is none."""
        if name == DATA and (primary := self.primary_input) is not None:
            return primary
        for port in self.inputs:
            if port.matches(name):
                return port
        return Port(name) if self.dynamic_inputs and name else None

    def output(self, name: str) -> Port | None:
        if name == DATA and (primary := self.primary_output) is not None:
            return primary
        for port in self.outputs:
            if port.matches(name):
                return port
        return None


# Kinds that can stand for one another (W2 warns only on clear contradictions): a file or dataset
# reference is a string id or an object; ports consuming datasets also accept rows (an array).
_COMPATIBLE: Final[tuple[frozenset[str], ...]] = (
    frozenset({"string", "file_ref", "dataset_ref"}),
    frozenset({"object", "file_ref", "dataset_ref"}),
    frozenset({"array", "rows", "messages", "dataset_refs", "dataset_ref"}),
    frozenset({"string", "messages"}),  # llm messages accept one string
)


def kinds_compatible(produced: str, expected: str) -> bool:
    if produced == expected or "any" in (produced, expected):
        return True
    return any(produced in group and expected in group for group in _COMPATIBLE)


def kind_of_schema(schema: object) -> PortKind:
    """The port kind an `input` block's JSON Schema describes (`type` plus `format`)."""
    if not isinstance(schema, dict):
        return "any"
    kind = schema.get("type")
    fmt = schema.get("format")
    if kind == "string":
        if fmt == "file":
            return "file_ref"
        if fmt == "dataset":
            return "dataset_ref"
        return "string"
    if kind == "array":
        items = schema.get("items")
        if isinstance(items, dict) and items.get("format") == "dataset":
            return "dataset_refs"
        return "array"
    if kind in ("number", "integer"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "object":
        return "object"
    return "any"
