"""Pipeline configurations the SDK tests run on the real server."""

from typing import Any, Dict, List


def graph(blocks: Dict[str, Any], edges: List[Any], name: str = "graph") -> Dict[str, Any]:
    """A configuration from ``{id: (type, config)}`` and ``(source, port, target, port)``."""
    return {
        "id": name.replace(" ", "_"),
        "name": name,
        "version": "1.0.0",
        "blocks": {
            key: {"id": key, "type": kind, "config": config}
            for key, (kind, config) in blocks.items()
        },
        "connections": [
            {"source_block_id": s, "source_port": sp, "target_block_id": t, "target_port": tp}
            for s, sp, t, tp in edges
        ],
    }


# The echo demo: user_input (input, string) -> echo_result (output "echoed_message").
ECHO = graph(
    {
        "user_input": ("input", {"json_schema": {"type": "string"}}),
        "echo_result": ("output", {"name": "echoed_message"}),
    },
    [("user_input", "data", "echo_result", "data")],
    name="echo_demo",
)
