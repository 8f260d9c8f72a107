"""Hostile patterns and JSON Schemas over HTTP: nothing stalls, nothing is fetched or leaked.

Regexes from users run on RE2 (a transform filter, a JSON Schema `pattern` checked when an
execution is created); a pattern RE2 refuses and a `$ref` outside the schema are 400
`invalid_pipeline_configuration` when an execution is created (and errors of POST .../validate),
naming the block and the pattern or reference. Engine-level rules: tests/engine/test_patterns.py
and tests/engine/test_jsonschemas.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from api_helpers import Account, assert_error
from loopback import Loopback
from pipelines_helpers import graph, run_configuration

pytestmark = pytest.mark.anyio

REDOS = ["(a+)+$", "(x+x+)+y", "^(a|aa)+$"]


def passthrough(schema: dict[str, Any], *middle: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    """input `in` (with `schema`) -> the `middle` blocks in a chain -> output `out` (`result`)."""
    blocks: dict[str, tuple[str, dict[str, Any]]] = {"in": ("input", {"json_schema": schema})}
    edges = []
    previous = "in"
    for block_id, kind, config in middle:
        blocks[block_id] = (kind, config)
        edges.append((previous, "data", block_id, "data"))
        previous = block_id
    blocks["out"] = ("output", {"name": "result"})
    edges.append((previous, "data", "out", "data"))
    return graph(blocks, edges)


def regex_filter(pattern: str) -> tuple[str, str, dict[str, Any]]:
    operation = {"type": "filter", "operator": "regex", "value": pattern}
    return ("keep", "transform", {"operations": [operation]})


async def saved_version(account: Account, configuration: dict[str, Any], name: str) -> str:
    """A pipeline and a version of `configuration` (saving checks the structure only)."""
    pipeline = await account.client.post("/pipelines", json={"name": name})
    assert pipeline.status_code == 201, pipeline.text
    version = await account.client.post(
        "/pipeline-configuration-versions",
        json={"pipelineId": pipeline.json()["pipelineId"], "configuration": configuration},
    )
    assert version.status_code == 201, version.text
    return str(version.json()["pipelineConfigurationVersionId"])


async def execute(account: Account, version_id: str, pipeline_input: Any) -> Any:
    return await account.client.post(
        "/pipeline-executions",
        json={
            "pipelineConfigurationVersionId": version_id,
            "pipelineInput": pipeline_input,
            "pipelineInputSummary": "hostile",
        },
    )


async def refused(
    account: Account, configuration: dict[str, Any], name: str, *expected: str
) -> list[Any]:
    """POST .../validate reports it, creating an execution is a 400 naming `expected`;
    the responses' bodies (for leak checks)."""
    report = await account.client.post(
        "/pipeline-configuration-versions/validate", json={"configuration": configuration}
    )
    assert report.status_code == 200, report.text
    assert report.json()["valid"] is False
    version_id = await saved_version(account, configuration, name)
    created = await execute(account, version_id, {"in": "x"})
    body = assert_error(created, 400, "invalid_pipeline_configuration")
    for text in expected:
        assert any(text in detail["message"] for detail in body["details"]), body
        assert any(text in error["message"] for error in report.json()["errors"]), report.text
    return [report.text, created.text]


@pytest.mark.parametrize("pattern", REDOS)
async def test_transform_regex_filter_cannot_stall_the_server(alice: Account, pattern: str) -> None:
    texts = ["a" * 27 + "!", "x" * 30, "a" * 3000, "x" * 3000 + "y", "aa", "xxy", "b"]
    configuration = passthrough(
        {"type": "array", "items": {"type": "string"}}, regex_filter(pattern)
    )
    done = await run_configuration(alice.client, configuration, {"in": texts}, "redos-filter")
    assert done["status"] == "completed", done
    expected = {
        "(a+)+$": ["a" * 3000, "aa"],
        "(x+x+)+y": ["x" * 3000 + "y", "xxy"],
        "^(a|aa)+$": ["a" * 3000, "aa"],
    }[pattern]
    assert done["pipelineOutput"] == {"result": expected}


@pytest.mark.parametrize("pattern", REDOS)
async def test_schema_pattern_cannot_stall_execution_creation(alice: Account, pattern: str) -> None:
    version_id = await saved_version(
        alice, passthrough({"type": "string", "pattern": pattern}), "redos-schema"
    )
    hostile = {"(a+)+$": "a" * 5000 + "!", "(x+x+)+y": "x" * 5000, "^(a|aa)+$": "a" * 5000 + "b"}
    body = assert_error(
        await execute(alice, version_id, {"in": hostile[pattern]}), 400, "invalid_pipeline_input"
    )
    [detail] = body["details"]
    assert detail["field"] == "in" and detail["message"].endswith(f"does not match {pattern!r}")
    fine = {"(a+)+$": "a" * 5000, "(x+x+)+y": "x" * 5000 + "y", "^(a|aa)+$": "a" * 5000}
    assert (await execute(alice, version_id, {"in": fine[pattern]})).status_code == 201


async def test_backreference_in_a_transform_is_refused(alice: Account) -> None:
    configuration = passthrough({"type": "string"}, regex_filter(r"(a)\1"))
    await refused(alice, configuration, "backref-transform", r"'(a)\1' is not supported")
    report = await alice.client.post(
        "/pipeline-configuration-versions/validate", json={"configuration": configuration}
    )
    [error] = report.json()["errors"]
    assert (error["blockId"], error["blockType"]) == ("keep", "transform")
    assert error["errorType"] == "invalid_transform_operation"


@pytest.mark.parametrize("where", ["pattern", "patternProperties"])
async def test_backreference_in_a_schema_is_refused(alice: Account, where: str) -> None:
    schema: dict[str, Any] = (
        {"type": "string", "pattern": r"(a)\1"}
        if where == "pattern"
        else {"type": "object", "patternProperties": {r"(a)\1": {}}}
    )
    await refused(alice, passthrough(schema), f"backref-{where}", r"'(a)\1' is not supported")


@pytest.mark.parametrize("block", ["in", "out"])
async def test_an_http_ref_is_refused_and_never_fetched(alice: Account, block: str) -> None:
    with Loopback() as listener:
        ref = listener.url("/x.json")
        schema = {"type": "object", "properties": {"a": {"$ref": ref}}}
        configuration = passthrough({"type": "object"})
        configuration["blocks"][block]["config"]["json_schema"] = schema
        message = f"$ref '{ref}' is not allowed: only local references (#/...) are resolved"
        await refused(alice, configuration, f"http-ref-{block}", message)
    assert listener.connections == 0


async def test_a_file_ref_is_refused_and_its_content_never_shown(
    alice: Account, tmp_path: Path
) -> None:
    secret = f"secret-{tmp_path.name}-do-not-show"
    target = tmp_path / "secret.json"
    target.write_text('{"type": "string", "enum": ["' + secret + '"], "title": "' + secret + '"}')
    bodies: list[str] = []
    for name, schema in {
        "file-ref": {"properties": {"a": {"$ref": target.as_uri()}}},
        "file-ref-relative": {"$id": tmp_path.as_uri() + "/", "$ref": "secret.json"},
        "file-ref-nested-id": {"properties": {"a": {"$id": tmp_path.as_uri() + "/", "$ref": "#"}}},
    }.items():
        bodies += await refused(alice, passthrough(schema), name, "is not allowed")
    listed = await alice.client.get("/pipeline-executions")
    bodies.append(listed.text)
    assert bodies and all(secret not in body for body in bodies)


async def test_a_ref_cycle_is_refused_and_the_server_carries_on(alice: Account) -> None:
    await refused(alice, passthrough({"$ref": "#"}), "ref-cycle", "$ref cycle # -> #")
    done = await run_configuration(
        alice.client, passthrough({"type": "string"}), {"in": "still here"}, "after-cycle"
    )
    assert done["status"] == "completed" and done["pipelineOutput"] == {"result": "still here"}
