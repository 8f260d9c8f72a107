"""The Draft 7 JSON Schema of the configuration document, generated from the block registry.

One source of truth: the top level and the connection shape come from `config.py`, and each
block entry is a `oneOf` branch per registered type whose `config` is that type's pydantic
config model. Served by `GET /pipeline-configuration-versions/schema`.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from .config import Connection, Metadata
from .registry import block_types, get_block_type

DRAFT7 = "http://json-schema.org/draft-07/schema#"


def configuration_json_schema(type_names: Iterable[str] | None = None) -> dict[str, Any]:
    """A fresh copy of the schema (callers may mutate it), of every registered block type or
    only of `type_names` (the reference in docs/ leaves out the tests' own types)."""
    registered = tuple(block.type_name for block in block_types())
    if type_names is not None:
        wanted = frozenset(type_names)
        registered = tuple(name for name in registered if name in wanted)
    return copy.deepcopy(_schema(registered))


@functools.lru_cache(maxsize=4)
def _schema(registered: tuple[str, ...]) -> dict[str, Any]:
    definitions: dict[str, Any] = {}
    branches: list[dict[str, Any]] = []
    type_names: list[str] = []
    for block_type in map(get_block_type, registered):
        name = block_type.type_name
        type_names.append(name)
        config_ref = _add_model(definitions, f"config:{name}", block_type.config_model)
        branch_name = f"block:{name}"
        definitions[branch_name] = {
            "title": name,
            "description": block_type.description,
            "properties": {"type": {"const": name}, "config": {"$ref": config_ref}},
        }
        branches.append({"$ref": f"#/definitions/{branch_name}"})
    definitions["Block"] = {
        "type": "object",
        "required": ["id", "type", "config"],
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "type": {"type": "string", "enum": type_names},
            "config": {"type": "object"},
            "name": {"type": "string"},
            "description": {"type": "string"},
        },
        "additionalProperties": True,
        "oneOf": branches,
    }
    connection_ref = _add_model(definitions, "Connection", Connection)
    metadata_ref = _add_model(definitions, "Metadata", Metadata)
    return {
        "$schema": DRAFT7,
        "title": "Pipeline configuration",
        "description": "The configuration document of a pipeline configuration version.",
        "type": "object",
        "required": ["id", "name", "blocks"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "version": {"type": "string", "default": "1.0.0"},
            "blocks": {
                "type": "object",
                "additionalProperties": {"$ref": "#/definitions/Block"},
            },
            "connections": {"type": "array", "items": {"$ref": connection_ref}, "default": []},
            "metadata": {"$ref": metadata_ref},
        },
        "additionalProperties": True,
        "definitions": definitions,
    }


def _add_model(definitions: dict[str, Any], name: str, model: type[BaseModel]) -> str:
    """Put `model`'s schema (and its nested models, namespaced) into `definitions`."""
    template = f"#/definitions/{name}:{{model}}"
    schema = model.model_json_schema(ref_template=template, mode="validation")
    for nested, sub in schema.pop("$defs", {}).items():
        definitions[f"{name}:{nested}"] = _draft7(sub)
    definitions[name] = _draft7(schema)
    return f"#/definitions/{name}"


def _draft7(node: Any) -> Any:
    """Drop what Draft 7 does not know (OpenAPI's `discriminator`)."""
    if isinstance(node, dict):
        return {
            key: _draft7(value)
            for key, value in node.items()
            if not (key == "discriminator" and isinstance(value, dict) and "propertyName" in value)
        }
    if isinstance(node, list):
        return [_draft7(item) for item in node]
    return node
