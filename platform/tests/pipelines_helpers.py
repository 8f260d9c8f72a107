"""Configuration documents shared by the pipeline tests."""

from __future__ import annotations

from typing import Any


def echo_configuration(pipeline_id: str = "echo_demo") -> dict[str, Any]:
    """pipelines.md 4.2: an input block wired to an output block named echoed_message."""
    return {
        "id": pipeline_id,
        "name": "Echo demo",
        "blocks": {
            "user_input": {
                "id": "user_input",
                "type": "input",
                "config": {"json_schema": {"type": "string"}},
            },
            "echo_result": {
                "id": "echo_result",
                "type": "output",
                "config": {"name": "echoed_message"},
            },
        },
        "connections": [
            {
                "source_block_id": "user_input",
                "source_port": "data",
                "target_block_id": "echo_result",
                "target_port": "data",
            }
        ],
    }
