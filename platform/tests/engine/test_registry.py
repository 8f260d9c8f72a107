"""The block registry: every block type of this issue registered, declarations consistent."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import conn, document, entry
from pydantic import BaseModel

from moderately.engine import (
    SPEC_BLOCK_TYPES,
    BlockType,
    Port,
    block,
    block_types,
    configuration_json_schema,
    find_block_type,
    validate_configuration,
)
from moderately.engine.registry import unregister

pytestmark = pytest.mark.anyio

# pipelines.md section 2, the types issue 5 implements (llm, embeddings, semantic_filter,
# clause_extraction_agent and legal_variance_determination come with a later issue).
ISSUE_5_TYPES = {
    "constant",
    "input",
    "output",
    "identity",
    "zip",
    "map",
    "join",
    "string_template",
    "json_template",
    "text_splitter",
    "transform",
    "dataset",
    "file",
    "artifact",
    "pdf_reader",
}
LATER_TYPES = {
    "llm",
    "embeddings",
    "semantic_filter",
    "clause_extraction_agent",
    "legal_variance_determination",
}


def test_every_block_type_of_the_issue_is_registered() -> None:
    registered = {block_type.type_name for block_type in block_types()}
    # The tests' own block types (tests/block_plugins.py) are not the product's.
    registered = {name for name in registered if not name.startswith("test_")}
    assert registered >= ISSUE_5_TYPES
    assert set(SPEC_BLOCK_TYPES) == ISSUE_5_TYPES | LATER_TYPES
    assert registered <= set(SPEC_BLOCK_TYPES)


def test_spec_section_2_lists_the_same_types() -> None:
    """SPEC_BLOCK_TYPES mirrors the headings of pipelines.md section 2 (when the spec is here)."""
    import re
    from pathlib import Path

    spec = Path(__file__).resolve().parents[4] / "shared" / "spec" / "pipelines.md"
    if not spec.exists():
        pytest.skip("the shared spec is not next to the repository")
    text = spec.read_text()
    section = text[text.index("## 2. Block reference") : text.index("## 3. Execution model")]
    headings = re.findall(r"^### 2\.\d+ `([a-z_]+)`", section, flags=re.MULTILINE)
    assert set(headings) == set(SPEC_BLOCK_TYPES)


@pytest.mark.parametrize("type_name", sorted(ISSUE_5_TYPES))
def test_declarations(type_name: str) -> None:
    block_type = find_block_type(type_name)
    assert block_type is not None
    assert block_type.type_name == type_name
    ports = block_type.static_ports()
    assert sum(port.primary for port in ports.inputs) <= 1
    assert sum(port.primary for port in ports.outputs) <= 1
    names = [port.name for port in ports.inputs]
    assert len(names) == len(set(names))
    assert issubclass(block_type.config_model, BaseModel)
    assert block_type.description


def test_summary_table_ports() -> None:
    """Primary ports of pipelines.md 2.0."""
    expected = {
        "constant": (None, "data"),
        "input": (None, "data"),
        "output": ("data", None),
        "dataset": (None, "data"),
        "file": ("file_id", "data"),
        "artifact": ("data", "data"),
        "identity": ("data", "data"),
        "zip": (None, "data"),
        "map": ("data", "data"),
        "join": (None, "data"),
        "string_template": ("data", "data"),
        "json_template": ("data", "data"),
        "text_splitter": ("text", "chunks"),
        "transform": ("data", "data"),
        "pdf_reader": ("file_id", "text"),
    }
    for type_name, (primary_in, primary_out) in expected.items():
        block_type = find_block_type(type_name)
        assert block_type is not None
        ports = block_type.static_ports()
        assert (ports.primary_input.name if ports.primary_input else None) == primary_in
        assert (ports.primary_output.name if ports.primary_output else None) == primary_out


def test_unavailable_spec_type_is_reported_as_not_yet_available() -> None:
    # Every spec type may be registered by now: take one away for the test.
    registered = find_block_type("llm")
    assert registered is not None
    unregister("llm")
    try:
        report = validate_configuration(document(entry("llm", "llm", {"provider": "openai"})))
    finally:
        block("llm")(type(registered))
    assert report.error_types() == ["unknown_block_type"]
    assert "not available on this server yet" in report.errors[0].message


class _ShoutConfig(BaseModel):
    suffix: str = "!"


class _Shout(BlockType[_ShoutConfig]):
    description = "Upper-case a string."
    config_model = _ShoutConfig
    inputs = (Port("data", required=True, primary=True),)
    outputs = (Port("data", primary=True),)

    async def run(self, ctx: Any, config: _ShoutConfig, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"data": str(inputs["data"]).upper() + config.suffix}


async def test_adding_a_block_type_is_one_registration() -> None:
    """A new type is validated, executed and present in the JSON Schema with nothing else."""
    from engine_helpers import inp, out, run

    block("test_shout")(_Shout)
    try:
        doc = document(
            inp("in", {"type": "string"}),
            entry("shout", "test_shout", {"suffix": "?"}),
            out("out"),
            connections=[conn("in", "shout"), conn("shout", "out")],
        )
        assert validate_configuration(doc).valid
        result = await run(doc, {"in": "hi"})
        assert result.output == {"out": "HI?"}
        schema = configuration_json_schema()
        assert "test_shout" in schema["definitions"]["Block"]["properties"]["type"]["enum"]
        bad = document(entry("shout", "test_shout", {"suffix": 3}))
        assert validate_configuration(bad).error_types() == [
            "invalid_config",
            "missing_required_input",
        ]
    finally:
        unregister("test_shout")
    assert find_block_type("test_shout") is None


def test_registration_rules() -> None:
    with pytest.raises(ValueError, match="already registered"):
        block("identity")(_Shout)

    class _NoRun(BlockType[_ShoutConfig]):
        config_model = _ShoutConfig

    with pytest.raises(TypeError, match="run"):
        block("test_norun")(_NoRun)
    assert find_block_type("test_norun") is None
