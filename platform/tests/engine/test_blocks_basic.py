"""constant, identity, output, artifact, dataset, file: behaviour and failure modes."""

from __future__ import annotations

import json

import pytest
from engine_helpers import (
    assert_completed,
    block_context,
    conn,
    document,
    entry,
    out,
    run,
    run_block,
)

from moderately.engine import BlockError, get_block_type
from moderately.engine.testing import InMemoryContext

pytestmark = pytest.mark.anyio


async def test_constant_emits_a_copy_and_null_when_absent() -> None:
    config = {"config_value": {"a": [1]}}
    block_type = get_block_type("constant")
    parsed = block_type.parse_config(config)
    block_ctx, _ = block_context()
    first = await block_type.run(block_ctx, parsed, {})
    first["data"]["a"].append(2)
    second = await block_type.run(block_ctx, parsed, {})
    assert second == {"data": {"a": [1]}}
    assert await run_block("constant", {}, {}) == {"data": None}
    assert await run_block("constant", {"config_value": None}, {}) == {"data": None}


async def test_identity() -> None:
    assert await run_block("identity", {}, {"data": [1, {"b": 2}]}) == {"data": [1, {"b": 2}]}


async def test_output_names_and_default() -> None:
    doc = document(
        entry("c", "constant", {"config_value": 0}),
        entry("o", "output", {}),
        entry("p", "output", {"name": "second", "json_schema": {"type": "integer"}}),
        connections=[conn("c", "o"), conn("c", "p")],
    )
    result = await run(doc)
    assert result.output == {"output": 0, "second": 0}


async def test_artifact_envelope_and_pass_through() -> None:
    doc = document(
        entry("c", "constant", {"config_value": {"k": "v"}}),
        entry(
            "a",
            "artifact",
            {"name": "snap", "description": "d", "json_schema": {"type": "object"}},
        ),
        entry("b", "artifact", {"name": "bare", "include_metadata": False}),
        out("o"),
        connections=[conn("c", "a"), conn("a", "b"), conn("b", "o")],
    )
    result = await run(doc)
    assert_completed(result)
    assert result.output == {"o": {"k": "v"}}
    artifacts = result.progress_data["artifacts"]
    snap = artifacts["snap"]
    assert set(snap) == {"name", "description", "block_id", "created_at", "json_schema", "value"}
    assert (snap["name"], snap["description"], snap["block_id"]) == ("snap", "d", "a")
    assert snap["value"] == {"k": "v"} and snap["json_schema"] == {"type": "object"}
    assert artifacts["bare"] == {"value": {"k": "v"}}


async def test_large_artifact_goes_to_storage() -> None:
    ctx = InMemoryContext()
    big = "x" * (70 * 1024)
    doc = document(
        entry("c", "constant", {"config_value": big}),
        entry("a", "artifact", {"name": "big"}),
        connections=[conn("c", "a")],
    )
    result = await run(doc, ctx=ctx)
    envelope = result.progress_data["artifacts"]["big"]
    assert "value" not in envelope
    assert envelope["uri"] == "memory://pipeline-executions/pex_test/artifacts/big.json"
    assert json.loads(ctx.artifacts["big"]) == big


async def test_artifact_schema_mismatch() -> None:
    with pytest.raises(BlockError) as raised:
        await run_block("artifact", {"json_schema": {"type": "array"}}, {"data": 1})
    assert raised.value.error_type == "artifact_schema_mismatch"


async def test_dataset_block() -> None:
    ctx = InMemoryContext()
    ctx.add_dataset(
        "ds_1",
        [{"id": 1, "name": "a"}],
        columns=[{"name": "id", "type": "integer"}, {"name": "name", "type": "string"}],
    )
    ctx.add_dataset("ds_empty", has_data=False)
    outputs = await run_block("dataset", {"dataset_id": "ds_1"}, {}, ctx)
    assert outputs == {
        "data": [{"id": 1, "name": "a"}],
        "dataset_id": "ds_1",
        "columns": [{"name": "id", "type": "integer"}, {"name": "name", "type": "string"}],
    }
    for dataset_id, code in (("ds_nope", "dataset_not_found"), ("ds_empty", "dataset_has_no_data")):
        with pytest.raises(BlockError) as raised:
            await run_block("dataset", {"dataset_id": dataset_id}, {}, ctx)
        assert raised.value.error_type == code


async def test_file_block() -> None:
    ctx = InMemoryContext()
    text = ctx.add_file(
        "\ufeffhéllo \xff".encode("utf-8", errors="surrogateescape")[:-2] + b"\xff",
        file_name="a.txt",
        mime_type="text/plain; charset=utf-8",
    )
    binary = ctx.add_file(b"\x00\x01", file_name="b.bin")
    js = ctx.add_file(b'{"a": 1}', mime_type="application/json")
    outputs = await run_block("file", {"file_id": text.file_id}, {}, ctx)
    assert outputs["file_id"] == text.file_id
    assert outputs["data"] == text.ref()
    assert outputs["data"]["type"] == "file"
    assert outputs["text"] == "héllo \ufffd"
    assert (await run_block("file", {"file_id": binary.file_id}, {}, ctx))["text"] is None
    assert (await run_block("file", {}, {"file_id": js.ref()}, ctx))["text"] == '{"a": 1}'
    # the port wins over the config; objects with fileId are accepted
    chosen = await run_block(
        "file", {"file_id": binary.file_id}, {"file_id": {"fileId": js.file_id}}, ctx
    )
    assert chosen["file_id"] == js.file_id
    with pytest.raises(BlockError) as raised:
        await run_block("file", {"file_id": "nope"}, {}, ctx)
    assert raised.value.error_type == "reference_not_found"
    with pytest.raises(BlockError) as raised:
        await run_block("file", {}, {"file_id": 42}, ctx)
    assert raised.value.error_type == "invalid_input"
