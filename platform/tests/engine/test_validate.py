"""validate_configuration: every rule of the catalogue, all problems at once."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import conn, document, entry, inp, out

from moderately.engine import (
    InvalidConfiguration,
    compile_pipeline,
    validate_configuration,
)
from moderately.engine.report import BlockIssue, ConnectionIssue


def echo() -> dict[str, Any]:
    return document(
        inp("user_input", {"type": "string"}),
        out("echo_result", "echoed_message"),
        connections=[conn("user_input", "echo_result")],
    )


def codes(doc: Any, **kw: Any) -> list[str]:
    return validate_configuration(doc, **kw).error_types()


def test_echo_is_valid_with_io_schemas() -> None:
    report = validate_configuration(echo())
    wire = report.to_wire()
    assert wire == {
        "valid": True,
        "errors": [],
        "warnings": [],
        "inputSchema": {
            "type": "object",
            "properties": {"user_input": {"type": "string"}},
            "required": ["user_input"],
            "additionalProperties": True,
        },
        "outputSchema": {
            "type": "object",
            "properties": {"echoed_message": {}},
            "required": ["echoed_message"],
        },
    }


def test_input_with_default_is_not_required() -> None:
    doc = document(inp("a", {"type": "string", "default": "x"}), inp("b", {"type": "number"}))
    assert validate_configuration(doc).input_schema["required"] == ["b"]  # type: ignore[index]


# -- structural rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc, message",
    [
        ([], "must be an object"),
        ({"name": "n", "blocks": {}}, "'id' is required"),
        ({"id": 1, "name": "n", "blocks": {}}, "'id' must be a string"),
        ({"id": "i", "blocks": {}}, "'name' is required"),
        ({"id": "i", "name": "n"}, "'blocks' is required"),
        ({"id": "i", "name": "n", "blocks": []}, "'blocks' must be an object"),
        ({"id": "i", "name": "n", "blocks": {}, "connections": {}}, "must be an array"),
    ],
)
def test_s1_document_shape(doc: Any, message: str) -> None:
    report = validate_configuration(doc)
    assert report.error_types() == ["schema_error"]
    error = report.errors[0]
    assert isinstance(error, BlockIssue)
    assert (error.block_id, error.block_type) == ("", "")
    assert message in error.message
    assert report.input_schema is None and report.output_schema is None


def test_s1_reports_every_document_problem() -> None:
    assert codes({"id": 3, "blocks": "x", "connections": 5}) == ["schema_error"] * 4


def test_s2_block_entry_shape() -> None:
    doc = {
        "id": "i",
        "name": "n",
        "blocks": {
            "a": "not an object",
            "b": {"type": "identity", "config": {}},
            "c": {"id": "", "type": "identity", "config": {}},
            "d": {"id": "d", "config": {}},
            "e": {"id": "e", "type": "identity"},
            "f": {"id": "f", "type": "identity", "config": []},
        },
    }
    report = validate_configuration(doc)
    assert report.error_types() == ["schema_error"] * 6
    assert [e.block_id for e in report.errors] == ["a", "b", "c", "d", "e", "f"]  # type: ignore[union-attr]


def test_s3_unknown_block_type() -> None:
    doc = document(entry("x", "teleport"), entry("y", "warp"))
    report = validate_configuration(doc, structural_only=True)
    assert report.error_types() == ["unknown_block_type", "unknown_block_type"]
    assert "unknown block type 'teleport'" in report.errors[0].message
    assert "identity" in report.errors[0].message  # lists the known ones


def test_s4_connection_shape() -> None:
    doc = document(
        entry("a", "identity"),
        connections=[
            "nope",  # type: ignore[list-item]
            {"source_block_id": "a", "source_port": 1, "target_block_id": "a"},
        ],
    )
    report = validate_configuration(doc, structural_only=True)
    assert report.error_types() == ["schema_error", "schema_error"]
    second = report.errors[1]
    assert isinstance(second, ConnectionIssue)
    assert second.connection_id == "1"
    assert second.source_block_id == "a" and second.source_port == ""
    assert "source_port, target_port" in second.message


def test_structural_only_skips_graph_rules() -> None:
    """A draft with an unconnected required port saves (1.7)."""
    doc = document(entry("t", "identity"), entry("m", "map", {}))
    assert codes(doc, structural_only=True) == []
    assert "missing_required_input" in codes(doc)


# -- V rules --------------------------------------------------------------------------------


def test_v1_duplicate_block_id() -> None:
    doc = document(entry("a", "identity"))
    doc["blocks"]["other_key"] = entry("a", "constant")
    report = validate_configuration(doc)
    assert "duplicate_block_id" in report.error_types()
    dup = next(e for e in report.errors if e.error_type == "duplicate_block_id")
    assert isinstance(dup, BlockIssue) and dup.block_type == "constant"


def test_v2_invalid_config_paths() -> None:
    doc = document(
        entry("s", "text_splitter", {"chunk_size": 0}),
        entry("z", "zip", {"combine_strategy": "interleave"}),
        entry("o", "output", {"name": 5}),
    )
    report = validate_configuration(doc)
    by_block = {e.block_id: e for e in report.errors if e.error_type == "invalid_config"}  # type: ignore[union-attr]
    assert by_block["s"].message.startswith("config.chunk_size:")
    assert by_block["z"].message.startswith("config.combine_strategy:")
    assert by_block["o"].message.startswith("config.name:")


@pytest.mark.parametrize(
    "type_name, config, field",
    [
        ("dataset", {}, "dataset_id"),
        ("input", {}, "json_schema"),
        ("map", {}, "target_block_type"),
        ("join", {"joins": [], "output_columns": []}, "base_dataset"),
        ("string_template", {}, "template"),
        ("json_template", {}, "template"),
        ("transform", {}, "operations"),
    ],
)
def test_v3_missing_required_config(type_name: str, config: dict[str, Any], field: str) -> None:
    report = validate_configuration(document(entry("b", type_name, config)))
    missing = [e for e in report.errors if e.error_type == "missing_required_config"]
    assert missing and missing[0].message == f"config.{field}: Field required"


@pytest.mark.parametrize(
    "type_name, config",
    [
        ("input", {"json_schema": {"type": "strin"}}),
        ("output", {"json_schema": {"minLength": "three"}}),
        ("artifact", {"json_schema": {"required": "name"}}),
    ],
)
def test_v4_invalid_json_schema(type_name: str, config: dict[str, Any]) -> None:
    report = validate_configuration(document(entry("b", type_name, config)))
    assert "invalid_json_schema" in report.error_types()


def test_v5_unknown_blocks() -> None:
    doc = document(
        entry("a", "identity"),
        connections=[conn("ghost", "a"), conn("a", "phantom"), conn("x", "y")],
    )
    assert codes(doc) == [
        "unknown_source_block",
        "unknown_target_block",
        "unknown_source_block",
        "unknown_target_block",
    ]  # a.data has a connection (from a missing block): no missing_required_input on top


def test_reference_by_map_key_when_no_id_matches() -> None:
    """The spec's own example: key `input`, id `input-1`."""
    doc = {
        "id": "p",
        "name": "p",
        "blocks": {
            "input": entry("input-1", "input", {"json_schema": {"type": "string"}}),
            "output": entry("output-1", "output"),
        },
        "connections": [conn("input", "output")],
    }
    assert validate_configuration(doc).valid
    doc["connections"] = [conn("input-1", "output-1")]
    assert validate_configuration(doc).valid


def test_v6_v7_unknown_ports_and_data_alias() -> None:
    doc = document(
        entry("pdf", "pdf_reader"),
        entry("file", "file", {"file_id": "f"}),
        entry("split", "text_splitter"),
        entry("t", "identity"),
        connections=[
            conn("file", "pdf", "data", "data"),  # data = file_id (primary)
            conn("pdf", "split", "data", "text"),  # data = text (primary)
            conn("pdf", "t", "pages", "data"),
            conn("pdf", "t", "nope", "data"),
            conn("split", "t", "chunks", "nope"),
        ],
    )
    report = validate_configuration(doc)
    assert report.error_types() == ["unknown_source_port", "unknown_target_port"]
    assert "ports: text, pages, metadata" in report.errors[0].message
    errors = report.errors
    assert isinstance(errors[1], ConnectionIssue) and errors[1].connection_id == "4"


def test_v8_self_connection() -> None:
    doc = document(entry("a", "identity"), connections=[conn("a", "a")])
    assert "self_connection" in codes(doc)


def test_v9_cycle_names_the_cycle_and_every_connection() -> None:
    doc = document(
        entry("a", "identity"),
        entry("b", "identity"),
        entry("c", "identity"),
        entry("d", "identity"),
        entry("e", "constant"),
        connections=[
            conn("a", "b"),
            conn("b", "c"),
            conn("c", "a"),
            conn("e", "d"),
        ],
    )
    report = validate_configuration(doc)
    cycles = [e for e in report.errors if e.error_type == "cycle"]
    assert [e.connection_id for e in cycles] == ["0", "1", "2"]  # type: ignore[union-attr]
    assert cycles[0].message == "connection 0 is part of a cycle: a -> b -> c -> a"
    assert cycles[2].message == "connection 2 is part of a cycle: c -> a -> b -> c"
    with pytest.raises(InvalidConfiguration) as raised:
        compile_pipeline(doc)
    assert raised.value.details[0]["errorType"] == "cycle"


def test_v9_two_cycles() -> None:
    doc = document(
        entry("a", "zip"),
        entry("b", "zip"),
        entry("c", "zip"),
        connections=[
            conn("a", "b", "data", "x"),
            conn("b", "a", "data", "x"),
            conn("b", "c", "data", "x"),
            conn("c", "b", "data", "y"),
        ],
    )
    cycles = [e for e in validate_configuration(doc).errors if e.error_type == "cycle"]
    assert len(cycles) == 4


def test_v10_multiple_connections_to_port() -> None:
    doc = document(
        entry("a", "constant"),
        entry("b", "constant"),
        entry("c", "constant"),
        entry("t", "identity"),
        connections=[conn("a", "t"), conn("b", "t"), conn("c", "t")],
    )
    report = validate_configuration(doc)
    multiple = [e for e in report.errors if e.error_type == "multiple_connections_to_port"]
    assert [(e.port_name, e.source_block_id, e.source_port) for e in multiple] == [  # type: ignore[union-attr]
        ("data", "b", "data"),
        ("data", "c", "data"),
    ]


def test_v11_missing_required_input() -> None:
    doc = document(
        entry("o", "output"),
        entry("p", "pdf_reader"),
        entry("f", "file"),  # file_id port required without config.file_id
        entry("g", "file", {"file_id": "x"}),
        entry("z", "zip"),
    )
    report = validate_configuration(doc)
    missing = [
        (e.block_id, e.port_name)  # type: ignore[union-attr]
        for e in report.errors
        if e.error_type == "missing_required_input"
    ]
    assert missing == [("o", "data"), ("p", "file_id"), ("f", "file_id"), ("z", None)]


def test_v12_input_blocks_take_no_connections() -> None:
    doc = document(entry("c", "constant"), inp("i"), connections=[conn("c", "i")])
    report = validate_configuration(doc)
    assert report.error_types() == ["unknown_target_port"]
    assert "has no input ports" in report.errors[0].message


def test_v13_v14_unique_output_and_artifact_names() -> None:
    doc = document(
        entry("c", "constant"),
        entry("o1", "output"),
        entry("o2", "output", {"name": "output"}),
        entry("o3", "output", {"name": "other"}),
        entry("a1", "artifact", {"name": "x"}),
        entry("a2", "artifact", {"name": "x"}),
        connections=[conn("c", b) for b in ("o1", "o2", "o3", "a1", "a2")],
    )
    report = validate_configuration(doc)
    assert report.error_types() == ["duplicate_output_name", "duplicate_artifact_name"]
    assert [e.block_id for e in report.errors] == ["o2", "a2"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "config, fragment",
    [
        ({"target_block_type": "nope"}, "unknown type 'nope'"),
        ({"target_block_type": "output"}, "cannot be a map target"),
        ({"target_block_type": "input"}, "cannot be a map target"),
        ({"target_block_type": "artifact"}, "cannot be a map target"),
        ({"target_block_type": "constant"}, "cannot be a map target"),
        ({"target_block_type": "zip"}, "cannot be a map target"),
        ({"target_block_type": "join"}, "cannot be a map target"),
        ({"target_block_type": "dataset"}, "cannot be a map target"),
        (
            {"target_block_type": "text_splitter", "target_config": {"chunk_size": -1}},
            "config.target_config.chunk_size:",
        ),
        (
            {
                "target_block_type": "map",
                "target_config": {"target_block_type": "transform", "target_config": {}},
            },
            "config.target_config.target_config.operations:",
        ),
        ({"target_block_type": "identity", "max_concurrency": 0}, "config.max_concurrency:"),
    ],
)
def test_v15_invalid_map_target(config: dict[str, Any], fragment: str) -> None:
    doc = document(entry("c", "constant"), entry("m", "map", config), connections=[conn("c", "m")])
    report = validate_configuration(doc)
    assert report.error_types() == ["invalid_map_target"], report.to_wire()
    assert fragment in report.errors[0].message


def test_v15_broadcast_ports_must_exist_on_the_target() -> None:
    doc = document(
        entry("c", "constant"),
        entry(
            "m", "map", {"target_block_type": "string_template", "target_config": {"template": "x"}}
        ),
        entry("n", "map", {"target_block_type": "text_splitter"}),
        connections=[
            conn("c", "m"),
            conn("c", "m", "data", "anything"),  # templates accept any variable port
            conn("c", "n"),
            conn("c", "n", "data", "bogus"),
        ],
    )
    report = validate_configuration(doc)
    assert report.error_types() == ["invalid_map_target"]
    error = report.errors[0]
    assert isinstance(error, BlockIssue)
    assert (error.block_id, error.port_name, error.source_block_id) == ("n", "bogus", "c")


def test_v15_required_broadcast_port() -> None:
    """A required non-primary input of the target must be connected to the map."""
    doc = document(
        entry("c", "constant"),
        entry("m", "map", {"target_block_type": "test_req"}),
        connections=[conn("c", "m")],
    )
    from typing import ClassVar

    from pydantic import BaseModel

    from moderately.engine import BlockType, Port, block
    from moderately.engine.registry import unregister

    class _C(BaseModel):
        pass

    class _Req(BlockType[_C]):
        config_model = _C
        inputs: ClassVar = (Port("data", required=True, primary=True), Port("query", required=True))
        outputs: ClassVar = (Port("data", primary=True),)

        async def run(self, ctx: Any, config: Any, inputs: Any) -> Any:
            return {"data": inputs}

    block("test_req")(_Req)
    try:
        report = validate_configuration(doc)
        assert report.error_types() == ["missing_required_input"]
        assert report.errors[0].port_name == "query"  # type: ignore[union-attr]
    finally:
        unregister("test_req")


def test_v16_overlap_below_size() -> None:
    report = validate_configuration(
        document(entry("s", "text_splitter", {"chunk_size": 100, "chunk_overlap": 100}))
    )
    errors = [e for e in report.errors if e.error_type == "invalid_config"]
    assert (
        errors and "chunk_overlap (100) must be smaller than chunk_size (100)" in errors[0].message
    )


@pytest.mark.parametrize(
    "operations",
    [
        [{"type": "explode"}],
        [{"op": "get"}],
        [{"type": "filter", "operator": "like", "value": 1}],
        [{"type": "filter", "operator": "regex", "value": "("}],
        [{"type": "filter", "operator": "in", "value": 3}],
        [{"type": "limit", "count": -1}],
        ["get"],
        [{"path": "a"}],
    ],
)
def test_v17_invalid_transform_operation(operations: list[Any]) -> None:
    doc = document(entry("t", "transform", {"operations": operations}))
    assert "invalid_transform_operation" in codes(doc)


def test_v17_op_alias_is_accepted() -> None:
    doc = document(
        entry("c", "constant"),
        entry("t", "transform", {"operations": [{"op": "get", "path": "a"}]}),
        connections=[conn("c", "t")],
    )
    assert codes(doc) == []


@pytest.mark.parametrize(
    "config, code",
    [
        (
            {
                "base_dataset": "a",
                "joins": [{"dataset": "b", "left_key": "c.id", "right_key": "id"}],
                "output_columns": [],
            },
            "invalid_join_reference",
        ),
        (
            {
                "base_dataset": "a",
                "joins": [{"dataset": "b", "left_key": "id", "right_key": "a.id"}],
                "output_columns": [],
            },
            "invalid_join_reference",
        ),
        (
            {
                "base_dataset": "a",
                "joins": [],
                "output_columns": [{"name": "x", "source": "zz.col", "type": "string"}],
            },
            "invalid_join_reference",
        ),
        (
            {
                "base_dataset": "a",
                "joins": [{"dataset": "b", "left_key": "id", "right_key": "id"}],
                "output_columns": [],
                "conflict_resolution": {"strategy": "explicit", "left_modifier": "_l"},
            },
            "invalid_config",
        ),
        (
            {
                "base_dataset": "a",
                "joins": [{"dataset": "a", "left_key": "id", "right_key": "id"}],
                "output_columns": [],
            },
            "invalid_config",
        ),
    ],
)
def test_v18_join_references(config: dict[str, Any], code: str) -> None:
    assert codes(document(entry("j", "join", config))) == [code]


def test_join_ports_are_table_names() -> None:
    config = {
        "base_dataset": "people",
        "joins": [{"dataset": "orders", "left_key": "id", "right_key": "person_id"}],
        "output_columns": [{"name": "n", "source": "people.name", "type": "string"}],
    }
    doc = document(
        entry("p", "constant"),
        entry("j", "join", config),
        connections=[conn("p", "j", "data", "people"), conn("p", "j", "data", "nobody")],
    )
    report = validate_configuration(doc)
    assert report.error_types() == ["unknown_target_port"]
    assert "ports: people, orders" in report.errors[0].message


def test_v19_empty_pipeline_only_at_execution() -> None:
    doc = document()
    assert codes(doc) == []
    assert codes(doc, for_execution=True) == ["empty_pipeline"]
    with pytest.raises(InvalidConfiguration):
        compile_pipeline(doc)


def test_w1_duplicate_connection_is_a_warning() -> None:
    doc = echo()
    doc["connections"].append(conn("user_input", "echo_result"))
    doc["connections"].append(conn("user_input", "echo_result", "data", "data"))
    report = validate_configuration(doc)
    assert report.valid
    assert [w.error_type for w in report.warnings] == ["duplicate_connection"] * 2
    assert [w.connection_id for w in report.warnings] == ["1", "2"]
    plan = compile_pipeline(doc)
    assert len(plan.node("echo_result").incoming) == 1


def test_w2_type_mismatch_warnings() -> None:
    doc = document(
        inp("n", {"type": "number"}),
        inp("s", {"type": "string"}),
        inp("ds", {"type": "array", "items": {"type": "string", "format": "dataset"}}),
        entry("p1", "pdf_reader"),
        entry("p2", "pdf_reader"),
        entry("m", "map", {"target_block_type": "identity"}),
        connections=[conn("n", "p1"), conn("s", "p2"), conn("ds", "m")],
    )
    report = validate_configuration(doc)
    assert report.valid
    assert [(w.error_type, w.connection_id) for w in report.warnings] == [("type_mismatch", "0")]
    assert "n.data produces number but p1.file_id expects file_ref" in report.warnings[0].message


def test_every_problem_is_reported_at_once() -> None:
    doc = document(
        entry("a", "teleport"),
        entry("s", "text_splitter", {"chunk_size": "big"}),
        entry("o", "output"),
        entry("t", "transform", {"operations": [{"type": "nope"}]}),
        entry("x", "identity"),
        entry("y", "identity"),
        connections=[conn("ghost", "o"), conn("x", "y"), conn("y", "x"), conn("x", "y", "oops")],
    )
    assert codes(doc) == [
        "unknown_block_type",
        "invalid_config",
        "invalid_transform_operation",
        "unknown_source_block",
        "unknown_source_port",
        "missing_required_input",
        "missing_required_input",
        "cycle",
        "cycle",
        "cycle",
    ]


def test_unknown_type_blocks_do_not_cascade() -> None:
    doc = document(
        entry("a", "no_such_type", {"provider": "openai"}),
        out("o"),
        connections=[conn("a", "o", "response", "data")],
    )
    assert codes(doc) == ["unknown_block_type"]


def test_extra_keys_are_fine() -> None:
    doc = echo()
    doc["pipeline_config"] = {"anything": 1}
    doc["blocks"]["user_input"]["x-ui"] = {"pos": [1, 2]}
    doc["blocks"]["echo_result"]["config"]["color"] = "blue"
    doc["connections"][0]["label"] = "flow"
    doc["metadata"] = {"name": "m", "version": "2", "whatever": True}
    report = validate_configuration(doc)
    assert report.valid and not report.warnings


def test_not_errors() -> None:
    """Unconnected outputs and inputs, no output block at all."""
    doc = document(inp("a", {"type": "string"}), entry("c", "constant"))
    assert validate_configuration(doc).valid
