"""zip (docs/reference/blocks.md): scalar and array modes, both strategies, unequal lengths."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import assert_completed, conn, document, entry, out, run, run_block

from moderately.engine import BlockError

pytestmark = pytest.mark.anyio


async def zipped(strategy: str, inputs: dict[str, Any]) -> Any:
    return (await run_block("zip", {"combine_strategy": strategy}, inputs))["data"]


async def test_scalar_create_array() -> None:
    assert await zipped("create_array", {"a": 1, "b": {"x": 1}, "c": None}) == [1, {"x": 1}, None]


async def test_scalar_merge_objects_later_keys_win_and_scalars_are_wrapped() -> None:
    merged = await zipped("merge_objects", {"a": {"k": 1, "x": 1}, "b": {"k": 2}, "n": 5})
    assert merged == {"k": 2, "x": 1, "n": 5}


async def test_array_mode_pairs_elements() -> None:
    inputs = {"a": [{"a": 1}, {"a": 2}], "b": [{"b": 1}, {"b": 2}]}
    assert await zipped("merge_objects", inputs) == [{"a": 1, "b": 1}, {"a": 2, "b": 2}]
    assert await zipped("create_array", {"a": [1, 2], "b": ["x", "y"]}) == [[1, "x"], [2, "y"]]


async def test_array_mode_repeats_scalars() -> None:
    inputs = {"items": [1, 2, 3], "ctx": {"lang": "en"}}
    assert await zipped("merge_objects", inputs) == [
        {"items": 1, "lang": "en"},
        {"items": 2, "lang": "en"},
        {"items": 3, "lang": "en"},
    ]
    assert await zipped("create_array", {"a": [], "b": "s"}) == []


async def test_unequal_lengths_fail() -> None:
    with pytest.raises(BlockError) as raised:
        await zipped("create_array", {"a": [1, 2], "b": [1, 2, 3], "c": 0})
    assert raised.value.error_type == "zip_length_mismatch"
    assert raised.value.message == "array inputs differ in length (a: 2, b: 3)"


async def test_inputs_follow_connection_order_in_a_pipeline() -> None:
    doc = document(
        entry("first", "constant", {"config_value": "1st"}),
        entry("second", "constant", {"config_value": "2nd"}),
        entry("z", "zip", {"combine_strategy": "create_array"}),
        out("o"),
        connections=[
            conn("second", "z", "data", "b_port"),
            conn("first", "z", "data", "a_port"),
            conn("z", "o"),
        ],
    )
    result = await run(doc)
    assert_completed(result)
    assert result.output == {"o": ["2nd", "1st"]}


async def test_default_strategy_is_merge() -> None:
    doc = document(
        entry("a", "constant", {"config_value": {"x": 1}}),
        entry("z", "zip"),
        out("o"),
        connections=[conn("a", "z", "data", "x"), conn("z", "o")],
    )
    assert (await run(doc)).output == {"o": {"x": 1}}
