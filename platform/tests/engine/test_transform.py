"""transform (docs/reference/blocks.md): every operation, list application, type errors."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import block_context, run_block

from moderately.engine import BlockError, get_block_type

pytestmark = pytest.mark.anyio

ROWS = [
    {"name": "b", "n": 2, "tags": ["x"], "meta": {"k": 1}},
    {"name": "a", "n": 10, "tags": [], "meta": {"k": 2}},
    {"name": "c", "n": None, "tags": ["x", "y"], "meta": {}},
]


async def apply(value: Any, *operations: dict[str, Any]) -> Any:
    return (await run_block("transform", {"operations": list(operations)}, {"data": value}))["data"]


@pytest.mark.parametrize(
    "value, operation, expected",
    [
        ({"a": {"b": [1, 2]}}, {"type": "get", "path": "a.b.1"}, 2),
        ({"a": 1}, {"type": "get", "path": "x.y"}, None),
        (ROWS, {"type": "get", "path": "meta.k"}, [1, 2, None]),
        (ROWS, {"type": "get", "path": "1.name"}, "a"),
        ({"a": 1}, {"type": "set", "path": "b.c", "value": [1]}, {"a": 1, "b": {"c": [1]}}),
        ([{"a": 1}, {}], {"op": "set", "path": "a", "value": 0}, [{"a": 0}, {"a": 0}]),
        ({"a": 1, "b": 2, "c": 3}, {"type": "pick", "fields": ["c", "a", "z"]}, {"c": 3, "a": 1}),
        ({"a": 1, "b": 2}, {"type": "omit", "fields": ["a"]}, {"b": 2}),
        ({"a": 1, "b": 2}, {"type": "rename", "mapping": {"a": "x"}}, {"x": 1, "b": 2}),
        ({"a": 1}, {"type": "merge", "value": {"a": 2, "b": 3}}, {"a": 2, "b": 3}),
        (None, {"type": "default", "value": "d"}, "d"),
        (0, {"type": "default", "value": "d"}, 0),
        ([None, 1], {"type": "default", "value": 0}, [0, 1]),
        ([3, 1, 2], {"type": "limit", "count": 2, "offset": 1}, [1, 2]),
        ([1, "1", 1, {"a": 1}, {"a": 1}], {"type": "unique"}, [1, "1", {"a": 1}]),
        (ROWS, {"type": "unique", "field": "tags.0"}, [ROWS[0], ROWS[1]]),
        (ROWS, {"type": "pluck", "field": "name"}, ["b", "a", "c"]),
        ([1, [2, [3, [4]]]], {"type": "flatten"}, [1, 2, [3, [4]]]),
        ([1, [2, [3, [4]]]], {"type": "flatten", "depth": 3}, [1, 2, 3, 4]),
        ("abc", {"type": "count"}, 3),
        ({"a": 1, "b": 2}, {"type": "count"}, 2),
        (5, {"type": "wrap", "key": "v"}, {"v": 5}),
        (["a", 1, {"b": None}], {"type": "join_text"}, 'a\n1\n{"b":null}'),
        (["a", "b"], {"type": "join_text", "separator": ", "}, "a, b"),
        ("a,b,,c", {"type": "split_text", "separator": ","}, ["a", "b", "", "c"]),
        ({"a": [1, "é"]}, {"type": "to_json"}, '{"a":[1,"é"]}'),
        ('{"a": [1]}', {"type": "parse_json"}, {"a": [1]}),
        (
            [{"n": "x", "v": 1}, {"n": "y", "v": [2]}],
            {"type": "format", "template": "{{n}}={{v}} ({{item.n}})"},
            ["x=1 (x)", "y=[2] (y)"],
        ),
        ("plain", {"type": "format", "template": "<{{item}}>"}, "<plain>"),
    ],
)
async def test_operations(value: Any, operation: dict[str, Any], expected: Any) -> None:
    assert await apply(value, operation) == expected


async def test_group_by_keeps_first_seen_order() -> None:
    rows = [{"k": "b", "i": 1}, {"k": "a", "i": 2}, {"k": "b", "i": 3}, {"i": 4}]
    assert await apply(rows, {"type": "group_by", "field": "k"}) == [
        {"key": "b", "items": [rows[0], rows[2]]},
        {"key": "a", "items": [rows[1]]},
        {"key": None, "items": [rows[3]]},
    ]


@pytest.mark.parametrize(
    "operator, value, field, expected",
    [
        ("eq", "a", "name", ["a"]),
        ("ne", "a", "name", ["b", "c"]),
        ("gt", 2, "n", ["a"]),
        ("gte", 2, "n", ["b", "a"]),
        ("lt", 10, "n", ["b"]),
        ("lte", 10, "n", ["b", "a"]),
        ("in", ["a", "c"], "name", ["a", "c"]),
        ("not_in", ["a", "c"], "name", ["b"]),
        ("contains", "x", "tags", ["b", "c"]),
        ("not_contains", "x", "tags", ["a"]),
        ("contains", "k", "meta", ["b", "a"]),
        ("exists", None, "n", ["b", "a"]),
        ("not_exists", None, "n", ["c"]),
        ("exists", None, "meta.k", ["b", "a"]),
        ("regex", "^[ab]$", "name", ["b", "a"]),
        ("eq", None, "n", ["c"]),
    ],
)
async def test_filter(operator: str, value: Any, field: str, expected: list[str]) -> None:
    op = {"type": "filter", "field": field, "operator": operator, "value": value}
    assert [row["name"] for row in await apply(ROWS, op)] == expected


async def test_filter_on_elements_and_mixed_types() -> None:
    assert await apply(
        [1, 5, "7", "abc", None], {"type": "filter", "operator": "gt", "value": 3}
    ) == [
        5,
        "7",  # mixed: compared as text, "7" > "3"
        "abc",
    ]
    assert await apply(
        ["apple", "pear"], {"type": "filter", "operator": "contains", "value": "pp"}
    ) == ["apple"]


async def test_sort_is_stable_with_nulls_last() -> None:
    rows = [{"v": 2, "i": 0}, {"v": None, "i": 1}, {"v": 1, "i": 2}, {"v": 2, "i": 3}, {"i": 4}]
    ascending = await apply(rows, {"type": "sort", "field": "v"})
    assert [row["i"] for row in ascending] == [2, 0, 3, 1, 4]
    descending = await apply(rows, {"type": "sort", "field": "v", "direction": "desc"})
    assert [row["i"] for row in descending] == [0, 3, 2, 1, 4]
    assert await apply([10, 9, 100], {"type": "sort"}) == [9, 10, 100]
    assert await apply(["10", "9"], {"type": "sort"}) == ["10", "9"]


async def test_operations_chain_in_order() -> None:
    result = await apply(
        ROWS,
        {"type": "filter", "field": "n", "operator": "exists"},
        {"type": "sort", "field": "n", "direction": "desc"},
        {"type": "pluck", "field": "name"},
        {"type": "join_text", "separator": "+"},
    )
    assert result == "a+b"


async def test_input_is_not_mutated() -> None:
    value = {"a": {"b": 1}}
    await apply(
        value, {"type": "set", "path": "a.b", "value": 2}, {"type": "merge", "value": {"c": 1}}
    )
    assert value == {"a": {"b": 1}}


@pytest.mark.parametrize(
    "value, operation, fragment",
    [
        (
            "text",
            {"type": "filter", "operator": "eq", "value": 1},
            "filter needs a list, got a string",
        ),
        ([1, 2], {"type": "pick", "fields": ["a"]}, "pick needs objects; element 0 is a number"),
        (5, {"type": "omit", "fields": ["a"]}, "omit needs an object or a list of objects"),
        (3, {"type": "count"}, "count needs a list"),
        ("{bad", {"type": "parse_json"}, "parse_json: invalid JSON"),
        ({"a": [1]}, {"type": "set", "path": "a.5", "value": 1}, "no array element '5'"),
        ([1], {"type": "split_text", "separator": ","}, "split_text needs a string"),
    ],
)
async def test_type_errors_name_the_operation(
    value: Any, operation: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(BlockError) as raised:
        await apply(value, {"type": "wrap", "key": "w"}, {"type": "get", "path": "w"}, operation)
    assert raised.value.error_type == "transform_type_error"
    assert raised.value.message.startswith(f"operation 2 ({operation['type']}): ")
    assert fragment in raised.value.message


async def test_format_warns_about_missing_variables() -> None:
    block_type = get_block_type("transform")
    config = block_type.parse_config({"operations": [{"type": "format", "template": "{{nope}}"}]})
    block_ctx, progress = block_context()
    outputs = await block_type.run(block_ctx, config, {"data": [{"a": 1}, {"a": 2}]})
    assert outputs["data"] == ["{{nope}}", "{{nope}}"]
    assert progress.warnings == ["b: unresolved placeholder {{nope}} left as is"]
