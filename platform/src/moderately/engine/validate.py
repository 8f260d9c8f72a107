"""Validation of a configuration document and compilation into a `Plan`.

`validate_configuration(doc)` reports every problem, never only the first, in the spec's report
format with the errorType codes of its rule catalogue:

* structural (S1-S4): `schema_error`, `unknown_block_type` (checked when a version is saved:
  `structural_only=True`);
* graph and semantics (V1-V19): `duplicate_block_id`, `invalid_config`,
  `missing_required_config`, `invalid_json_schema`, `unknown_source_block`,
  `unknown_target_block`, `unknown_source_port`, `unknown_target_port`, `self_connection`,
  `cycle`, `multiple_connections_to_port`, `missing_required_input`, `duplicate_output_name`,
  `duplicate_artifact_name`, `invalid_map_target`, `invalid_transform_operation`,
  `invalid_join_reference`, `empty_pipeline` (only `for_execution=True`);
* warnings: `duplicate_connection`, `type_mismatch`.

`compile_pipeline(doc)` runs the whole catalogue (as for an execution) and returns the `Plan`,
or raises `InvalidConfiguration` with the report.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from .errors import InvalidConfiguration
from .plan import Edge, Node, Plan
from .ports import BlockPorts, Port, kinds_compatible
from .registry import BlockType, find_block_type, unknown_type_message
from .report import BlockIssue, ConnectionIssue, Issue, ValidationReport

_CONNECTION_FIELDS = ("source_block_id", "source_port", "target_block_id", "target_port")


def validate_configuration(
    document: Any, *, structural_only: bool = False, for_execution: bool = False
) -> ValidationReport:
    """The validation report of `document` (POST .../validate uses the defaults)."""
    return _Analysis(document, structural_only=structural_only, for_execution=for_execution).run()


def compile_pipeline(document: Any) -> Plan:
    """Validate as for an execution and compile; raises `InvalidConfiguration`."""
    analysis = _Analysis(document, structural_only=False, for_execution=True)
    report = analysis.run()
    if not report.valid:
        raise InvalidConfiguration(report)
    return analysis.plan(report)


@dataclass(slots=True)
class _Entry:
    key: str
    position: int
    block_id: str
    type_name: str
    raw: dict[str, Any]
    block_type: BlockType[Any] | None = None  # None: unknown type or malformed entry
    config: BaseModel | None = None
    ports: BlockPorts | None = None  # None: connections are not checked against it


@dataclass(slots=True)
class _Link:
    """A connection whose endpoints and ports resolved."""

    index: int
    source: _Entry
    source_port: Port
    target: _Entry
    target_port: Port


@dataclass(slots=True)
class _Analysis:
    document: Any
    structural_only: bool
    for_execution: bool
    errors: list[Issue] = field(default_factory=list)
    warnings: list[ConnectionIssue] = field(default_factory=list)
    entries: list[_Entry] = field(default_factory=list)  # in blocks order, valid ids only
    by_id: dict[str, _Entry] = field(default_factory=dict)
    by_key: dict[str, _Entry] = field(default_factory=dict)
    connections: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    links: list[_Link] = field(default_factory=list)
    connected: dict[str, set[str]] = field(default_factory=dict)  # block id -> input ports
    structural_ok: bool = True

    # -- driver -----------------------------------------------------------------------------

    def run(self) -> ValidationReport:
        blocks, connections = self._document_shape()
        if blocks is not None:
            self._block_entries(blocks)
        if connections is not None:
            self._connection_shapes(connections)
        if not self.structural_only:
            self._configs()
            self._unique_names()
            self._resolve_connections()
            self._fan_in()
            self._required_inputs()
            self._cycles()
            if self.for_execution and blocks is not None and not blocks:
                self._document_error("empty_pipeline", "the pipeline has no blocks")
        input_schema, output_schema = self._io_schemas()
        return ValidationReport(
            errors=self.errors,
            warnings=self.warnings,
            input_schema=input_schema,
            output_schema=output_schema,
        )

    # -- S1 to S4 ---------------------------------------------------------------------------

    def _document_error(self, error_type: str, message: str) -> None:
        self.errors.append(BlockIssue("", "", error_type, message))

    def _document_shape(self) -> tuple[dict[str, Any] | None, list[Any] | None]:
        doc = self.document
        if not isinstance(doc, dict):
            self.structural_ok = False
            self._document_error("schema_error", "the configuration must be an object")
            return None, None
        for key in ("id", "name"):
            if not isinstance(doc.get(key), str):
                self.structural_ok = False
                problem = "is required" if key not in doc else "must be a string"
                self._document_error("schema_error", f"'{key}' {problem}")
        blocks = doc.get("blocks")
        if not isinstance(blocks, dict):
            self.structural_ok = False
            problem = "is required" if "blocks" not in doc else "must be an object"
            self._document_error("schema_error", f"'blocks' {problem}")
            blocks = None
        connections = doc.get("connections", [])
        if not isinstance(connections, list):
            self.structural_ok = False
            self._document_error("schema_error", "'connections' must be an array")
            connections = None
        return blocks, connections

    def _block_entries(self, blocks: dict[str, Any]) -> None:
        for position, (key, raw) in enumerate(blocks.items()):
            if not isinstance(raw, dict):
                self._block_error(key, "", "schema_error", f"blocks.{key}: must be an object")
                continue
            block_id = raw.get("id")
            type_name = raw.get("type")
            shown_type = type_name if isinstance(type_name, str) else ""
            ok = True
            if not isinstance(block_id, str) or not block_id:
                ok = False
                problem = "is required" if "id" not in raw else "must be a non-empty string"
                self._block_error(key, shown_type, "schema_error", f"blocks.{key}.id {problem}")
            shown_id = block_id if isinstance(block_id, str) and block_id else key
            if not isinstance(type_name, str):
                ok = False
                problem = "is required" if "type" not in raw else "must be a string"
                self._block_error(shown_id, "", "schema_error", f"blocks.{key}.type {problem}")
            if not isinstance(raw.get("config"), dict):
                ok = False
                problem = "is required" if "config" not in raw else "must be an object"
                self._block_error(
                    shown_id, shown_type, "schema_error", f"blocks.{key}.config {problem}"
                )
            block_type = None
            if isinstance(type_name, str):
                block_type = find_block_type(type_name)
                if block_type is None:
                    self.structural_ok = False
                    self._block_error(
                        shown_id, type_name, "unknown_block_type", unknown_type_message(type_name)
                    )
            if not ok:
                self.structural_ok = False
            entry = _Entry(
                key=key,
                position=position,
                block_id=shown_id,
                type_name=shown_type,
                raw=raw,
                block_type=block_type if ok else None,
            )
            if shown_id in self.by_id:
                self._block_error(
                    shown_id,
                    shown_type,
                    "duplicate_block_id",
                    f"blocks.{key}: id '{shown_id}' is already used by blocks."
                    f"{self.by_id[shown_id].key}",
                )
            else:
                self.by_id[shown_id] = entry
                self.entries.append(entry)
            self.by_key.setdefault(key, entry)

    def _connection_shapes(self, connections: list[Any]) -> None:
        for index, raw in enumerate(connections):
            fields = raw if isinstance(raw, dict) else {}
            values = {name: fields.get(name) for name in _CONNECTION_FIELDS}
            bad = [name for name, value in values.items() if not isinstance(value, str)]
            if not isinstance(raw, dict) or bad:
                self.structural_ok = False
                problem = (
                    "must be an object"
                    if not isinstance(raw, dict)
                    else f"{', '.join(bad)} must be string(s)"
                )
                shown = {
                    name: value if isinstance(value, str) else "" for name, value in values.items()
                }
                self.errors.append(
                    _connection_issue(
                        index, shown, "schema_error", f"connections.{index}: {problem}"
                    )
                )
                continue
            self.connections.append((index, {name: str(values[name]) for name in values}))

    # -- V2 to V4, V13 to V18 -----------------------------------------------------------------

    def _block_error(
        self,
        block_id: str,
        block_type: str,
        error_type: str,
        message: str,
        port_name: str | None = None,
        source_block_id: str | None = None,
        source_port: str | None = None,
    ) -> None:
        self.errors.append(
            BlockIssue(
                block_id, block_type, error_type, message, port_name, source_block_id, source_port
            )
        )

    def _configs(self) -> None:
        for entry in self.entries:
            block_type = entry.block_type
            if block_type is None:
                continue
            config, issues = block_type.load_config(entry.raw["config"])
            for issue in issues:
                self._block_error(
                    entry.block_id,
                    entry.type_name,
                    issue.error_type,
                    issue.message,
                    issue.port_name,
                )
            entry.config = config
            entry.ports = (
                block_type.ports(config) if config is not None else block_type.fallback_ports()
            )

    def _unique_names(self) -> None:
        seen: dict[tuple[str, str], str] = {}
        for entry in self.entries:
            block_type = entry.block_type
            if block_type is None or entry.config is None or block_type.unique_name is None:
                continue
            name_field, error_type = block_type.unique_name
            value = getattr(entry.config, name_field)
            if (entry.type_name, value) in seen:
                self._block_error(
                    entry.block_id,
                    entry.type_name,
                    error_type,
                    f"config.{name_field} '{value}' is already used by block "
                    f"'{seen[(entry.type_name, value)]}'",
                )
            else:
                seen[(entry.type_name, value)] = entry.block_id

    # -- V5 to V8, V12, W1, W2 ----------------------------------------------------------------

    def _resolve(self, reference: str) -> _Entry | None:
        return self.by_id.get(reference) or self.by_key.get(reference)

    def _resolve_connections(self) -> None:
        seen: set[tuple[str, str, str, str]] = set()
        for index, conn in self.connections:
            problem = functools.partial(self._connection_error, index, conn)
            source = self._resolve(conn["source_block_id"])
            target = self._resolve(conn["target_block_id"])
            target_port = None
            if target is not None and target is not source and target.ports is not None:
                target_port = target.ports.input(conn["target_port"])
                if target_port is not None:  # connected, whatever the source's problems
                    self.connected.setdefault(target.block_id, set()).add(target_port.name)
            if source is None:
                problem(
                    "unknown_source_block", f"source block '{conn['source_block_id']}' not found"
                )
            if target is None:
                problem(
                    "unknown_target_block", f"target block '{conn['target_block_id']}' not found"
                )
            if source is None or target is None:
                continue
            if source is target:
                problem("self_connection", f"block '{source.block_id}' is connected to itself")
                continue
            source_port = None
            if source.ports is not None:
                source_port = source.ports.output(conn["source_port"])
                if source_port is None:
                    problem(
                        "unknown_source_port",
                        f"block '{source.block_id}' ({source.type_name}) has no output port "
                        f"'{conn['source_port']}'{_known(source.ports.outputs)}",
                    )
            if target.ports is not None and target_port is None:
                self._unknown_target_port(target, conn, problem)
            if source_port is None or target_port is None:
                continue
            key = (source.block_id, source_port.name, target.block_id, target_port.name)
            if key in seen:
                self.warnings.append(
                    _connection_issue(
                        index,
                        conn,
                        "duplicate_connection",
                        f"same connection as an earlier one: {source.block_id}.{source_port.name}"
                        f" -> {target.block_id}.{target_port.name} (ignored)",
                    )
                )
                continue
            seen.add(key)
            if not kinds_compatible(source_port.kind, target_port.kind):
                self.warnings.append(
                    _connection_issue(
                        index,
                        conn,
                        "type_mismatch",
                        f"{source.block_id}.{source_port.name} produces {source_port.kind} but "
                        f"{target.block_id}.{target_port.name} expects {target_port.kind}",
                    )
                )
            self.links.append(_Link(index, source, source_port, target, target_port))

    def _connection_error(
        self, index: int, conn: dict[str, str], error_type: str, message: str
    ) -> None:
        self.errors.append(_connection_issue(index, conn, error_type, message))

    def _unknown_target_port(
        self, target: _Entry, conn: dict[str, str], problem: Callable[[str, str], None]
    ) -> None:
        assert target.ports is not None
        block_type = target.block_type
        port = conn["target_port"]
        if block_type is not None and block_type.unknown_input_error is not None:
            self._block_error(
                target.block_id,
                target.type_name,
                block_type.unknown_input_error,
                f"port '{port}' is not an input port of the target block type"
                f"{_known(target.ports.inputs)}",
                port_name=port,
                source_block_id=conn["source_block_id"],
                source_port=conn["source_port"],
            )
            return
        if not target.ports.inputs and not target.ports.dynamic_inputs:
            message = f"block '{target.block_id}' ({target.type_name}) has no input ports"
        else:
            message = (
                f"block '{target.block_id}' ({target.type_name}) has no input port '{port}'"
                f"{_known(target.ports.inputs)}"
            )
        problem("unknown_target_port", message)

    # -- V10, V11 -----------------------------------------------------------------------------

    def _fan_in(self) -> None:
        first: dict[tuple[str, str], _Link] = {}
        for link in self.links:
            if link.target_port.multi:
                continue
            slot = (link.target.block_id, link.target_port.name)
            if slot not in first:
                first[slot] = link
                continue
            self._block_error(
                link.target.block_id,
                link.target.type_name,
                "multiple_connections_to_port",
                f"input port '{link.target_port.name}' already receives "
                f"{first[slot].source.block_id}.{first[slot].source_port.name} "
                f"(connection {first[slot].index}); connection {link.index} is one too many",
                port_name=link.target_port.name,
                source_block_id=link.source.block_id,
                source_port=link.source_port.name,
            )

    def _required_inputs(self) -> None:
        connected = self.connected
        for entry in self.entries:
            if entry.block_type is None or entry.ports is None:
                continue
            ports = connected.get(entry.block_id, set())
            for port in entry.ports.inputs:
                if port.required and port.name not in ports:
                    self._block_error(
                        entry.block_id,
                        entry.type_name,
                        "missing_required_input",
                        f"required input port '{port.name}' is not connected",
                        port_name=port.name,
                    )
            one_of = entry.block_type.required_one_of
            if one_of and not ports.intersection(one_of):
                self._block_error(
                    entry.block_id,
                    entry.type_name,
                    "missing_required_input",
                    f"connect at least one of the input ports {', '.join(map(repr, one_of))}",
                    port_name=one_of[0],
                )
            needed = entry.block_type.min_connections
            if needed and entry.config is not None and len(ports) < needed:
                self._block_error(
                    entry.block_id,
                    entry.type_name,
                    "missing_required_input",
                    f"a {entry.type_name} block needs at least {needed} incoming connection(s)",
                )

    # -- V9 -----------------------------------------------------------------------------------

    def _cycles(self) -> None:
        """Every connection inside a strongly connected component of size > 1 is an error."""
        graph: dict[str, list[str]] = {entry.block_id: [] for entry in self.entries}
        edges: list[tuple[int, str, str, dict[str, str]]] = []
        for index, conn in self.connections:
            source = self._resolve(conn["source_block_id"])
            target = self._resolve(conn["target_block_id"])
            if source is None or target is None or source is target:
                continue
            graph[source.block_id].append(target.block_id)
            edges.append((index, source.block_id, target.block_id, conn))
        component = _strongly_connected(graph)
        sizes: dict[int, int] = {}
        for number in component.values():
            sizes[number] = sizes.get(number, 0) + 1
        for index, source_id, target_id, conn in edges:
            number = component[source_id]
            if sizes[number] < 2 or component[target_id] != number:
                continue
            path = _path_within(graph, component, target_id, source_id)
            cycle = " -> ".join([source_id, *path, source_id] if path else [source_id, target_id])
            self.errors.append(
                _connection_issue(
                    index, conn, "cycle", f"connection {index} is part of a cycle: {cycle}"
                )
            )

    # -- report schemas and plan --------------------------------------------------------------

    def _io_schemas(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        if not self.structural_ok:
            return None, None
        properties: dict[str, Any] = {}
        required: list[str] = []
        outputs: dict[str, Any] = {}
        for entry in self.entries:
            raw_config = entry.raw.get("config", {})
            if entry.type_name == "input":
                schema = raw_config.get("json_schema")
                schema = schema if isinstance(schema, dict) else {}
                properties[entry.block_id] = schema
                if "default" not in schema:
                    required.append(entry.block_id)
            elif entry.type_name == "output":
                name = raw_config.get("name", "output")
                schema = raw_config.get("json_schema")
                outputs[str(name)] = schema if isinstance(schema, dict) else {}
        input_schema = {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": True,
        }
        output_schema = {"type": "object", "properties": outputs, "required": list(outputs)}
        return input_schema, output_schema

    def plan(self, report: ValidationReport) -> Plan:
        nodes: list[Node] = []
        index_of: dict[str, int] = {}
        for entry in self.entries:
            assert entry.block_type is not None
            assert entry.config is not None
            assert entry.ports is not None
            index_of[entry.block_id] = len(nodes)
            nodes.append(
                Node(
                    index=len(nodes),
                    block_id=entry.block_id,
                    key=entry.key,
                    type_name=entry.type_name,
                    block_type=entry.block_type,
                    config=entry.config,
                    ports=entry.ports,
                    name=entry.raw.get("name") if isinstance(entry.raw.get("name"), str) else None,
                )
            )
        for link in self.links:
            source = index_of[link.source.block_id]
            target = nodes[index_of[link.target.block_id]]
            target.incoming.append(
                Edge(
                    str(link.index),
                    source,
                    link.source_port.name,
                    link.target_port.name,
                    link.target_port.multi,
                )
            )
            if source not in target.upstream:
                target.upstream.append(source)
                nodes[source].downstream.append(target.index)
            consumers = nodes[source].consumers
            consumers[link.source_port.name] = consumers.get(link.source_port.name, 0) + 1
        order = _topological(nodes)
        rank = [0] * len(nodes)
        for position, node_index in enumerate(order):
            rank[node_index] = position
        return Plan(
            document=self.document,
            nodes=nodes,
            order=order,
            rank=rank,
            by_id=index_of,
            input_nodes=[node.index for node in nodes if node.type_name == "input"],
            output_nodes=[node.index for node in nodes if node.type_name == "output"],
            report=report,
        )


def _connection_issue(
    index: int, conn: dict[str, str], error_type: str, message: str
) -> ConnectionIssue:
    return ConnectionIssue(
        str(index),
        conn["source_block_id"],
        conn["source_port"],
        conn["target_block_id"],
        conn["target_port"],
        error_type,
        message,
    )


def _known(ports: Iterable[Port]) -> str:
    names = [port.name for port in ports]
    return f" (ports: {', '.join(names)})" if names else ""


def _topological(nodes: list[Node]) -> list[int]:
    """Kahn's algorithm; among ready nodes the earliest in `blocks` goes first."""
    waiting = [len(node.upstream) for node in nodes]
    ready = [node.index for node in nodes if not node.upstream]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        index = heapq.heappop(ready)
        order.append(index)
        for target in nodes[index].downstream:
            waiting[target] -= 1
            if waiting[target] == 0:
                heapq.heappush(ready, target)
    return order


def _strongly_connected(graph: dict[str, list[str]]) -> dict[str, int]:
    """Tarjan's algorithm (iterative): node -> component number."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    component: dict[str, int] = {}
    counter = 0
    components = 0
    for root in graph:
        if root in index_of:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = graph[node]
            if child < len(successors):
                work.append((node, child + 1))
                nxt = successors[child]
                if nxt not in index_of:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index_of[nxt])
                continue
            if low[node] == index_of[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = components
                    if member == node:
                        break
                components += 1
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return component


def _path_within(
    graph: dict[str, list[str]], component: dict[str, int], start: str, goal: str
) -> list[str]:
    """A shortest path start -> ... -> goal inside one component (BFS), as a node list."""
    number = component[start]
    previous: dict[str, str | None] = {start: None}
    queue = [start]
    for node in queue:
        if node == goal:
            break
        for nxt in graph[node]:
            if nxt not in previous and component.get(nxt) == number:
                previous[nxt] = node
                queue.append(nxt)
    if goal not in previous:
        return []
    path: list[str] = []
    current: str | None = goal
    while current is not None:
        path.append(current)
        current = previous[current]
    path.reverse()
    return path[:-1]  # ends just before goal (the cycle closes on the source itself)
