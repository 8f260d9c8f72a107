"""configuration_json_schema: a Draft 7 schema generated from the block definitions."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import conn, document, entry, inp, out
from jsonschema import Draft7Validator

from moderately.engine import block_types, configuration_json_schema, validate_configuration


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = configuration_json_schema()
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def test_is_draft7_and_covers_the_registry() -> None:
    schema = configuration_json_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["required"] == ["id", "name", "blocks"]
    block = schema["definitions"]["Block"]
    names = [block_type.type_name for block_type in block_types()]
    assert block["properties"]["type"]["enum"] == names
    assert len(block["oneOf"]) == len(names)
    for name in names:
        assert f"config:{name}" in schema["definitions"]
    assert "$defs" not in str(schema)
    assert "discriminator" not in str(schema)


def test_fresh_copy() -> None:
    first = configuration_json_schema()
    first["definitions"].clear()
    assert configuration_json_schema()["definitions"]


def test_config_schemas_carry_the_spec_constraints() -> None:
    definitions = configuration_json_schema()["definitions"]
    splitter = definitions["config:text_splitter"]["properties"]
    assert splitter["chunk_size"]["exclusiveMinimum"] == 0
    assert splitter["chunk_size"]["maximum"] == 10000
    assert splitter["chunk_size"]["default"] == 1000
    zipped = definitions["config:zip"]["properties"]["combine_strategy"]
    assert zipped["enum"] == ["merge_objects", "create_array"]
    assert definitions["config:map"]["required"] == ["target_block_type"]
    assert definitions["config:output"]["properties"]["name"]["default"] == "output"


def sample_documents() -> list[dict[str, Any]]:
    return [
        document(
            inp("user_input", {"type": "string"}),
            out("echo_result", "echoed_message"),
            connections=[conn("user_input", "echo_result")],
        ),
        document(
            entry("c", "constant", {"config_value": [1, 2]}),
            entry("m", "map", {"target_block_type": "transform", "target_config": {}}),
            entry(
                "t", "transform", {"operations": [{"type": "count"}, {"type": "wrap", "key": "n"}]}
            ),
            entry("s", "text_splitter", {"chunk_size": 10, "chunk_overlap": 2}),
            entry(
                "j",
                "join",
                {
                    "base_dataset": "a",
                    "joins": [{"dataset": "b", "left_key": "id", "right_key": "id"}],
                    "output_columns": [{"name": "x", "source": "a.x", "type": "string"}],
                },
            ),
            entry("jt", "json_template", {"template": [{"role": "user", "content": "{{q}}"}]}),
            entry("st", "string_template", {"template": "hi {{name}}"}),
            entry("f", "file", {}),
            entry("p", "pdf_reader", {}),
            entry("a", "artifact", {"name": "n", "include_metadata": False}),
            entry("d", "dataset", {"dataset_id": "ds"}),
            entry("i", "identity", {}),
            entry("z", "zip", {"combine_strategy": "create_array"}),
        ),
    ]


@pytest.mark.parametrize("doc", sample_documents())
def test_valid_documents_validate(validator: Draft7Validator, doc: dict[str, Any]) -> None:
    assert list(validator.iter_errors(doc)) == []


@pytest.mark.parametrize(
    "block",
    [
        entry("x", "teleport"),
        entry("x", "text_splitter", {"chunk_size": 0}),
        entry("x", "zip", {"combine_strategy": "shuffle"}),
        entry("x", "dataset", {}),
        entry("x", "input", {}),
        entry("x", "transform", {"operations": [{"type": "nope"}]}),
        entry("x", "map", {"target_block_type": "identity", "max_concurrency": 0}),
        {"id": "x", "type": "identity"},
        {"id": "", "type": "identity", "config": {}},
    ],
)
def test_invalid_blocks_are_rejected_by_both(
    validator: Draft7Validator, block: dict[str, Any]
) -> None:
    doc = document(block)
    assert list(validator.iter_errors(doc)), "the schema accepted it"
    assert not validate_configuration(doc).valid, "the validator accepted it"


def test_top_level_rules(validator: Draft7Validator) -> None:
    assert not validator.is_valid({"id": "x", "blocks": {}})
    assert not validator.is_valid({"id": "x", "name": "n", "blocks": {}, "connections": [{}]})
    assert validator.is_valid({"id": "x", "name": "n", "blocks": {}, "pipeline_config": {}})
