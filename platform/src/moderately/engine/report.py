"""The validation report of a configuration, as plain dataclasses with a `to_wire()` form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class BlockIssue:
    """`block_type_error`: a problem of one block (or of the document, with empty ids)."""

    block_id: str
    block_type: str
    error_type: str
    message: str
    port_name: str | None = None
    source_block_id: str | None = None
    source_port: str | None = None
    type: Literal["block_type_error"] = "block_type_error"

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "type": self.type,
            "blockId": self.block_id,
            "blockType": self.block_type,
            "errorType": self.error_type,
            "message": self.message,
        }
        if self.port_name is not None:
            wire["portName"] = self.port_name
        if self.source_block_id is not None:
            wire["sourceBlockId"] = self.source_block_id
        if self.source_port is not None:
            wire["sourcePort"] = self.source_port
        return wire


@dataclass(frozen=True, slots=True)
class ConnectionIssue:
    """`connection_error`: a problem of one connection; `connection_id` is its array index."""

    connection_id: str
    source_block_id: str
    source_port: str
    target_block_id: str
    target_port: str
    error_type: str
    message: str
    type: Literal["connection_error"] = "connection_error"

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "connectionId": self.connection_id,
            "sourceBlockId": self.source_block_id,
            "sourcePort": self.source_port,
            "targetBlockId": self.target_block_id,
            "targetPort": self.target_port,
            "errorType": self.error_type,
            "message": self.message,
        }


Issue = BlockIssue | ConnectionIssue


@dataclass(frozen=True, slots=True)
class ValidationReport:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[ConnectionIssue] = field(default_factory=list)
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    def error_types(self) -> list[str]:
        return [error.error_type for error in self.errors]

    def to_wire(self) -> dict[str, Any]:
        """`{valid, errors, warnings, inputSchema, outputSchema}`: the body of POST .../validate."""
        return {
            "valid": self.valid,
            "errors": [error.to_wire() for error in self.errors],
            "warnings": [warning.to_wire() for warning in self.warnings],
            "inputSchema": self.input_schema,
            "outputSchema": self.output_schema,
        }
