"""The configuration document (docs/reference/blocks.md) as pydantic models.

Liberal as the spec asks: unknown keys are kept at every level (`extra="allow"`), block-level
defaults are never written back. The validator (`validate.py`) checks raw documents itself so it
can report every problem with its rule code; these models describe the accepted shape, give the
JSON Schema its top level, and type the parsed pieces.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Connection(BaseModel):
    """Carries the value of `source_block_id.source_port` into `target_block_id.target_port`."""

    model_config = ConfigDict(extra="allow")

    source_block_id: str
    source_port: str
    target_block_id: str
    target_port: str


class BlockEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, description="Used by connections and pipelineInput keys")
    type: str
    config: dict[str, Any] = Field(description="Type-specific settings")
    name: str | None = Field(default=None, description="Display label, shown in progress")
    description: str | None = None


class Metadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str | None = None
    version: str | None = None
    description: str | None = None


class PipelineConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    description: str | None = None
    version: str = "1.0.0"
    blocks: dict[str, BlockEntry]
    connections: list[Connection] = Field(default_factory=list)
    metadata: Metadata | None = None


def normalize_for_storage(document: dict[str, Any]) -> dict[str, Any]:
    """The document as stored (1.2): as submitted, plus `connections: []` and
    `version: "1.0.0"` when missing. Returns a new top-level dict; nested values are shared."""
    stored = dict(document)
    stored.setdefault("connections", [])
    stored.setdefault("version", "1.0.0")
    return stored
