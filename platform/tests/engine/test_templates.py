"""string_template and json_template (docs/reference/blocks.md), missing variables included."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import block_context, conn, document, entry, out, run

from moderately.engine import get_block_type

pytestmark = pytest.mark.anyio


async def render(type_name: str, config: dict[str, Any], inputs: dict[str, Any]):
    block_type = get_block_type(type_name)
    block_ctx, progress = block_context(block_type=type_name)
    outputs = await block_type.run(block_ctx, block_type.parse_config(config), inputs)
    return outputs["data"], progress.warnings


async def test_variables_from_data_object_and_named_ports() -> None:
    text, warnings = await render(
        "string_template",
        {"template": "{{ name }} ({{age}}) likes {{ things.0 }}; {{extra.k}}"},
        {"data": {"name": "Ann", "age": 7, "things": ["tea"]}, "extra": {"k": "v"}},
    )
    assert text == "Ann (7) likes tea; v"
    assert warnings == []


async def test_named_port_overrides_data_key_and_non_object_data_is_a_variable() -> None:
    text, _ = await render(
        "string_template", {"template": "{{name}}"}, {"data": {"name": "a"}, "name": "b"}
    )
    assert text == "b"
    text, _ = await render("string_template", {"template": "[{{data}}]"}, {"data": "plain"})
    assert text == "[plain]"


async def test_non_strings_are_compact_json() -> None:
    text, _ = await render(
        "string_template",
        {"template": "{{o}} {{l}} {{n}} {{b}} {{z}} {{u}}"},
        {"o": {"k": "é"}, "l": [1, 2], "n": 1.5, "b": True, "z": None, "u": "ü"},
    )
    assert text == '{"k":"é"} [1,2] 1.5 true null ü'


async def test_missing_variables_stay_verbatim_with_a_warning() -> None:
    text, warnings = await render(
        "string_template",
        {"template": "Hi {{ who }}, {{who}} and {{data.x.y}} {{ok}}"},
        {"data": {"x": {}}, "ok": "fine"},
    )
    assert text == "Hi {{ who }}, {{who}} and {{data.x.y}} fine"
    assert warnings == [
        "b: unresolved placeholder {{who}} left as is",
        "b: unresolved placeholder {{data.x.y}} left as is",
    ]


async def test_literal_braces_and_strip() -> None:
    text, warnings = await render(
        "string_template", {"template": "  {{ not closed  {x} }} \n"}, {"x": 1}
    )
    assert text == "{{ not closed  {x} }}"
    assert warnings == []
    text, _ = await render("string_template", {"template": " a ", "strip_whitespace": False}, {})
    assert text == " a "


async def test_json_template_preserves_types_of_whole_placeholders() -> None:
    template = {
        "messages": [{"role": "user", "content": "{{question}}"}],
        "count": "{{ n }}",
        "obj": " {{o}} ",
        "text": "n={{n}}",
        "{{key}}": "keys are not rendered",
        "fixed": 3,
    }
    value, warnings = await render(
        "json_template", {"template": template}, {"question": "Why?", "n": 2, "o": {"a": [1]}}
    )
    assert value == {
        "messages": [{"role": "user", "content": "Why?"}],
        "count": 2,
        "obj": {"a": [1]},
        "text": "n=2",
        "{{key}}": "keys are not rendered",
        "fixed": 3,
    }
    assert warnings == []


async def test_json_template_missing_and_unconnected() -> None:
    value, warnings = await render(
        "json_template", {"template": ["{{gone}}", "x {{gone}}"]}, {"data": {"a": 1}}
    )
    assert value == ["{{gone}}", "x {{gone}}"]
    assert warnings == ["b: unresolved placeholder {{gone}} left as is"]
    value, warnings = await render("json_template", {"template": {"q": "{{question}}"}}, {})
    assert value == {"q": "{{question}}"} and warnings == []


async def test_json_template_output_is_a_copy() -> None:
    template = {"list": [1]}
    block_type = get_block_type("json_template")
    config = block_type.parse_config({"template": template})
    block_ctx, _ = block_context()
    first = (await block_type.run(block_ctx, config, {}))["data"]
    first["list"].append(2)
    assert (await block_type.run(block_ctx, config, {}))["data"] == {"list": [1]}


async def test_abandoned_chat_revision_shape() -> None:
    """The only json_template in the sources (ex 04 @78ba520): an array of messages."""
    doc = document(
        entry("question", "input", {"json_schema": {"type": "object"}}),
        entry(
            "messages",
            "json_template",
            {"template": [{"role": "user", "content": "{{question}}"}]},
        ),
        out("o"),
        connections=[conn("question", "messages"), conn("messages", "o")],
    )
    result = await run(doc, {"question": {"question": "What is due?"}})
    assert result.output == {"o": [{"role": "user", "content": "What is due?"}]}
    assert result.progress_data["warnings"] == []
