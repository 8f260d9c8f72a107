"""Shared by the AI block tests: the real AI layer pointed at the loopback provider, and a
pipeline that feeds constants into one block."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine_helpers import conn, document, entry, out
from llm_server import Recorded

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "data"


def feeding(
    block: dict[str, Any], feeds: dict[str, Any], outputs: tuple[str, ...] = ("data",)
) -> dict[str, Any]:
    """A document: one constant per `feeds` entry into that input port of `block`, and one
    output block per port in `outputs` (named after the port)."""
    block_id = block["id"]
    entries = [block]
    connections = []
    for position, (port, value) in enumerate(feeds.items()):
        source = f"feed_{position}"
        entries.append(entry(source, "constant", {"config_value": value}))
        connections.append(conn(source, block_id, "data", port))
    for port in outputs:
        entries.append(out(f"out_{port}", port))
        connections.append(conn(block_id, f"out_{port}", port, "data"))
    return document(*entries, connections=connections)


def system_text(request: Recorded) -> str:
    """The system text a recorded request carried (either protocol)."""
    body = request.body
    if request.protocol == "anthropic":
        system = body.get("system")
        if isinstance(system, list):
            return "".join(part.get("text", "") for part in system)
        return system or ""
    return "\n".join(
        message["content"] for message in body["messages"] if message["role"] == "system"
    )


def chat_messages(request: Recorded) -> list[tuple[str, str]]:
    """(role, text) of the non-system messages of a recorded request."""
    pairs = []
    for message in request.body["messages"]:
        if message["role"] == "system":
            continue
        content = message["content"]
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        pairs.append((message["role"], content))
    return pairs


def read_csv_rows(path: Path) -> list[dict[str, Any]]:
    import csv

    with path.open(newline="", encoding="utf-8") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
