"""Configuration documents shared by the pipeline tests."""

from __future__ import annotations

from typing import Any

from api_helpers import wait_for_status


def echo_configuration(pipeline_id: str = "echo_demo") -> dict[str, Any]:
    """The echo demo: an input block wired to an output block named echoed_message."""
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


async def wait_terminal(client: Any, execution_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll GET /pipeline-executions/{id} until completed, failed or cancelled."""
    return await wait_for_status(client, f"/pipeline-executions/{execution_id}", timeout=timeout)


async def start_configuration(
    client: Any, configuration: dict[str, Any], pipeline_input: Any, name: str
) -> str:
    """Create a pipeline and a version and execute it; the execution's id."""
    pipeline = await client.post("/pipelines", json={"name": name})
    assert pipeline.status_code == 201, pipeline.text
    version = await client.post(
        "/pipeline-configuration-versions",
        json={"pipelineId": pipeline.json()["pipelineId"], "configuration": configuration},
    )
    assert version.status_code == 201, version.text
    execution = await client.post(
        "/pipeline-executions",
        json={
            "pipelineConfigurationVersionId": version.json()["pipelineConfigurationVersionId"],
            "pipelineInput": pipeline_input,
            "pipelineInputSummary": name,
        },
    )
    assert execution.status_code == 201, execution.text
    return str(execution.json()["pipelineExecutionId"])


async def run_configuration(
    client: Any, configuration: dict[str, Any], pipeline_input: dict[str, Any], name: str
) -> dict[str, Any]:
    """Create a pipeline and a version, execute, wait; the finished execution."""
    execution_id = await start_configuration(client, configuration, pipeline_input, name)
    return await wait_terminal(client, execution_id)


def graph(
    blocks: dict[str, tuple[str, dict[str, Any]]], edges: list[tuple[str, str, str, str]]
) -> dict[str, Any]:
    """A configuration from `{id: (type, config)}` and `(source, port, target, port)` edges."""
    return {
        "id": "g",
        "name": "graph",
        "blocks": {
            key: {"id": key, "type": kind, "config": config}
            for key, (kind, config) in blocks.items()
        },
        "connections": [
            {
                "source_block_id": s,
                "source_port": sp,
                "target_block_id": t,
                "target_port": tp,
            }
            for s, sp, t, tp in edges
        ],
    }


# ---- slow blocks for cancellation tests (tests/block_plugins.py) ----

SLEEP, SPIN = "test_sleep", "test_spin"


def sleep_chain(seconds: float = 10.0, length: int = 3, kind: str = SLEEP) -> dict[str, Any]:
    """input -> sleep_1 -> ... -> sleep_n -> output (`kind` SPIN: busy on the CPU instead)."""
    blocks: dict[str, tuple[str, dict[str, Any]]] = {
        "in": ("input", {"json_schema": {"type": "string"}})
    }
    edges = []
    previous = "in"
    for n in range(1, length + 1):
        blocks[f"sleep_{n}"] = (kind, {"seconds": seconds})
        edges.append((previous, "data", f"sleep_{n}", "data"))
        previous = f"sleep_{n}"
    blocks["out"] = ("output", {"name": "result"})
    edges.append((previous, "data", "out", "data"))
    return graph(blocks, edges)
