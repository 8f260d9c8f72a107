"""Errors print where the problem is: the field, the block or the connection of each 400 detail,
and the block a failed pipeline execution failed in."""

import uuid
from typing import Any, Dict, List

import httpx
import pytest

from moderatelyai_sdk import (
    AsyncModeratelyAI,
    PipelineExecutionFailedError,
    ValidationError,
)
from moderatelyai_sdk._base_client import error_from_response
from moderatelyai_sdk._exceptions import describe_detail

KNOWN = "known: input, output, transform"

# Details as the server sends them (platform/src/moderately/engine/report.py to_wire, and the
# request validator's {field, message, value}), captured from a running server.
UNKNOWN_TYPE = {
    "type": "block_type_error",
    "blockId": "x",
    "blockType": "no_such_block",
    "errorType": "unknown_block_type",
    "message": f"unknown block type 'no_such_block' ({KNOWN})",
}
MISSING_INPUT = {
    "type": "block_type_error",
    "blockId": "summarise",
    "blockType": "llm",
    "errorType": "missing_required_input",
    "message": "required input port 'prompt' is not connected",
    "portName": "prompt",
}
DOCUMENT = {
    "type": "block_type_error",
    "blockId": "",
    "blockType": "",
    "errorType": "schema_error",
    "message": "'id' is required",
}
BAD_PORT = {
    "type": "connection_error",
    "connectionId": "0",
    "sourceBlockId": "in",
    "sourcePort": "nope",
    "targetBlockId": "out",
    "targetPort": "data",
    "errorType": "unknown_source_port",
    "message": "block 'in' (input) has no output port 'nope' (ports: data)",
}
MALFORMED_CONNECTION = {
    "type": "connection_error",
    "connectionId": "2",
    "sourceBlockId": "",
    "sourcePort": "",
    "targetBlockId": "",
    "targetPort": "",
    "errorType": "schema_error",
    "message": "connections.2: must be an object",
}
FIELD = {"field": "in", "message": "5 is not of type 'string'", "value": 5}


def response(code: str, message: str, details: List[Dict[str, Any]]) -> httpx.Response:
    """A 400 in the server's envelope (what both clients turn into an exception)."""
    error = {"code": code, "message": message, "details": details, "requestId": "req_1"}
    body = {"error": error, "code": code, "message": message, "details": details}
    return httpx.Response(400, json=body, headers={"x-request-id": "req_1"})


@pytest.mark.parametrize(
    ("detail", "line"),
    [
        (UNKNOWN_TYPE, f"block x (no_such_block): unknown block type 'no_such_block' ({KNOWN})"),
        (MISSING_INPUT, "block summarise (llm): required input port 'prompt' is not connected"),
        (DOCUMENT, "configuration: 'id' is required"),
        (
            BAD_PORT,
            "connection in.nope -> out.data: block 'in' (input) has no output port 'nope' "
            "(ports: data)",
        ),
        (MALFORMED_CONNECTION, "connection 2: connections.2: must be an object"),
        (FIELD, "in: 5 is not of type 'string'"),
        ({"field": "body", "message": "invalid JSON"}, "body: invalid JSON"),
        ({"loc": ["body", "name"], "msg": "x", "message": "too long"}, "body.name: too long"),
        ({"path": "/blocks/a", "message": "bad"}, "/blocks/a: bad"),
        ({"blockId": "a", "message": "bad"}, "block a: bad"),
        ({"message": "just a message"}, "just a message"),
        ({"errorType": "cycle"}, "cycle"),
        ({"sourceBlockId": "a", "targetBlockId": "b", "message": "m"}, "connection a -> b: m"),
        ("a plain string", "a plain string"),
    ],
)
def test_each_detail_names_where(detail: Any, line: str) -> None:
    assert describe_detail(detail) == line


def test_configuration_errors_print_blocks_and_connections() -> None:
    details = [UNKNOWN_TYPE, DOCUMENT, BAD_PORT, MISSING_INPUT]
    error = error_from_response(
        response("invalid_pipeline_configuration", "invalid pipeline configuration", details)
    )
    assert isinstance(error, ValidationError) and error.validation_details == details
    assert str(error).splitlines() == [
        "invalid pipeline configuration | Status: 400 | Request ID: req_1",
        "Validation errors:",
        f"  - block x (no_such_block): unknown block type 'no_such_block' ({KNOWN})",
        "  - configuration: 'id' is required",
        "  - connection in.nope -> out.data: block 'in' (input) has no output port 'nope'"
        " (ports: data)",
        "  - block summarise (llm): required input port 'prompt' is not connected",
    ]
    assert "?" not in str(error)


def test_field_errors_print_as_before() -> None:
    error = error_from_response(response("invalid_pipeline_input", "invalid input", [FIELD]))
    assert isinstance(error, ValidationError)
    assert str(error).endswith("Validation errors:\n  - in: 5 is not of type 'string'")
    built = ValidationError("Invalid", [{"field": "name", "message": "required"}])
    assert str(built) == "Invalid | Status: 400\nValidation errors:\n  - name: required"
    assert str(ValidationError("Invalid")) == "Invalid | Status: 400"


def test_long_detail_lists_are_cut() -> None:
    details = [{"field": f"f{i}", "message": "bad"} for i in range(25)]
    lines = str(ValidationError("Invalid", details)).splitlines()
    assert lines[2] == "  - f0: bad" and lines[21] == "  - f19: bad"
    assert lines[22:] == ["  ... and 5 more (validation_details)"]


def test_failed_execution_names_its_block() -> None:
    engine = PipelineExecutionFailedError(
        "Pipeline execution failed: Block 't' (transform) failed: boom",
        failed_block="t",
        error_type="transform_type_error",
        errors=["Block 't' (transform) failed: boom"],
    )
    assert str(engine) == "Pipeline execution failed: Block 't' (transform) failed: boom"
    other = PipelineExecutionFailedError(
        "Pipeline execution failed: the scheduler stopped with blocks left to run",
        failed_block="split",
    )
    assert str(other) == (
        "Pipeline execution failed: the scheduler stopped with blocks left to run"
        " (failed block: 'split')"
    )
    timeout = PipelineExecutionFailedError("Pipeline execution failed: ran past its budget")
    assert str(timeout) == "Pipeline execution failed: ran past its budget"


def graph(blocks: Dict[str, Any], edges: List[Any]) -> Dict[str, Any]:
    return {
        "id": "errors",
        "name": "errors",
        "blocks": {
            key: {"id": key, "type": kind, "config": c} for key, (kind, c) in blocks.items()
        },
        "connections": [
            {"source_block_id": s, "source_port": sp, "target_block_id": t, "target_port": tp}
            for s, sp, t, tp in edges
        ],
    }


@pytest.mark.anyio
async def test_server_configuration_errors_print_blocks_and_connections(fresh: Any) -> None:
    text = {"json_schema": {"type": "string"}}
    unknown = graph(
        {"in": ("input", text), "x": ("no_such_block", {}), "out": ("output", {"name": "r"})},
        [("in", "data", "x", "data"), ("x", "data", "out", "data")],
    )
    miswired = graph(
        {"in": ("input", text), "out": ("output", {"name": "r"})},
        [("in", "nope", "out", "data"), ("ghost", "data", "out", "data")],
    )
    async with AsyncModeratelyAI(
        api_key=fresh.api_key, team_id=fresh.team_id, base_url=fresh.base_url
    ) as client:
        pipeline = await client.pipelines.create(name=f"errors {uuid.uuid4().hex[:8]}")
        with pytest.raises(ValidationError) as saved:  # structural rules, when saving
            await pipeline.create_configuration_version(configuration=unknown)
        with pytest.raises(ValidationError) as malformed:
            await pipeline.create_configuration_version(configuration={"blocks": []})
        version = await pipeline.create_configuration_version(configuration=miswired)
        with pytest.raises(ValidationError) as executed:  # every rule, when executing
            await version.execute(pipeline_input={"in": "x"})
        report = await client.pipeline_configuration_versions.validate(miswired)
    assert "  - block x (no_such_block): unknown block type 'no_such_block'" in str(saved.value)
    assert "  - configuration: 'id' is required" in str(malformed.value).splitlines()
    lines = str(executed.value).splitlines()
    assert lines[1:] == [
        "Validation errors:",
        "  - connection in.nope -> out.data: block 'in' (input) has no output port 'nope'"
        " (ports: data)",
        "  - connection ghost.data -> out.data: source block 'ghost' not found",
    ]
    assert [describe_detail(e) for e in report["errors"]] == [line[4:] for line in lines[2:]]
    for error in (saved.value, malformed.value, executed.value):
        assert "?:" not in str(error)
