"""A validated configuration, compiled for execution (built by `validate.compile_pipeline`).

Nodes are in `blocks` order; `order` is the deterministic topological order (Kahn's algorithm,
ties broken by position in `blocks`), so `currentStep`/`totalSteps` repeat from run to run.
A plan is immutable and can be reused for any number of runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from .ports import BlockPorts
from .registry import BlockType
from .report import ValidationReport


@dataclass(frozen=True, slots=True)
class Edge:
    """One connection into a node, after alias resolution and deduplication."""

    connection_id: str
    source: int  # node index
    source_port: str  # canonical
    target_port: str  # canonical
    multi: bool


@dataclass(slots=True)
class Node:
    index: int
    block_id: str
    key: str  # the entry's key in `blocks`
    type_name: str
    block_type: BlockType[Any]
    config: BaseModel
    ports: BlockPorts
    name: str | None
    incoming: list[Edge] = field(default_factory=list)  # in connection-array order
    upstream: list[int] = field(default_factory=list)  # distinct source nodes
    downstream: list[int] = field(default_factory=list)  # distinct target nodes
    consumers: dict[str, int] = field(default_factory=dict)  # output port -> edge count


@dataclass(frozen=True, slots=True)
class Plan:
    document: dict[str, Any]
    nodes: list[Node]
    order: list[int]  # node indexes, topological
    rank: list[int]  # rank[node index] = position in `order`
    by_id: dict[str, int]
    input_nodes: list[int]  # `input` blocks, in blocks order
    output_nodes: list[int]  # `output` blocks, in blocks order
    report: ValidationReport  # valid; may carry warnings

    def node(self, block_id: str) -> Node:
        return self.nodes[self.by_id[block_id]]
