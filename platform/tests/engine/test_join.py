"""The join block: tables, key matching, join types, order, conflicts, projection."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import assert_completed, conn, document, entry, out, run, run_block

from moderately.engine import BlockError
from moderately.engine.testing import InMemoryContext

pytestmark = pytest.mark.anyio

PEOPLE = [
    {"id": "1", "name": "Ann", "city": "Oslo"},
    {"id": "2", "name": "Bo", "city": "Rome"},
    {"id": "3", "name": "Cy", "city": None},
]
ORDERS = [
    {"order": "o1", "person": 1, "name": "book"},
    {"order": "o2", "person": " 2 ", "name": "pen"},
    {"order": "o3", "person": "1.0", "name": "ink"},
    {"order": "o4", "person": "9", "name": "cup"},
    {"order": "o5", "person": None, "name": "mug"},
]


def config(join_type: str = "inner", columns: list[dict[str, Any]] | None = None, **extra: Any):
    return {
        "base_dataset": "people",
        "joins": [
            {"dataset": "orders", "left_key": "id", "right_key": "person", "join_type": join_type}
        ],
        "output_columns": columns
        or [
            {"name": "person", "source": "people_name", "type": "string", "nullable": True},
            {"name": "order", "source": "orders.order", "type": "string", "nullable": True},
        ],
        **extra,
    }


async def joined(cfg: dict[str, Any], ctx: InMemoryContext | None = None, **tables: Any) -> Any:
    inputs = tables or {"people": PEOPLE, "orders": ORDERS}
    return (await run_block("join", cfg, inputs, ctx))["data"]


async def test_inner_join_matches_numbers_and_trimmed_text_in_order() -> None:
    assert await joined(config()) == [
        {"person": "Ann", "order": "o1"},
        {"person": "Ann", "order": "o3"},
        {"person": "Bo", "order": "o2"},
    ]


async def test_left_join_keeps_unmatched_left_rows() -> None:
    assert await joined(config("left")) == [
        {"person": "Ann", "order": "o1"},
        {"person": "Ann", "order": "o3"},
        {"person": "Bo", "order": "o2"},
        {"person": "Cy", "order": None},
    ]


async def test_right_join_appends_unmatched_right_rows() -> None:
    assert await joined(config("right")) == [
        {"person": "Ann", "order": "o1"},
        {"person": "Ann", "order": "o3"},
        {"person": "Bo", "order": "o2"},
        {"person": None, "order": "o4"},
        {"person": None, "order": "o5"},
    ]


async def test_full_join() -> None:
    rows = await joined(config("full"))
    assert [(row["person"], row["order"]) for row in rows] == [
        ("Ann", "o1"),
        ("Ann", "o3"),
        ("Bo", "o2"),
        ("Cy", None),
        (None, "o4"),
        (None, "o5"),
    ]


@pytest.mark.parametrize(
    "strategy, left, right, expected",
    [
        ("prefix", "", "", ("people_name", "orders_name")),
        ("prefix", "p.", "o.", ("p.name", "o.name")),
        ("suffix", "", "", ("name_people", "name_orders")),
        ("explicit", "_l", "_r", ("name_l", "name_r")),
    ],
)
async def test_conflicting_column_names(
    strategy: str, left: str, right: str, expected: tuple[str, str]
) -> None:
    columns = [
        {"name": "who", "source": expected[0], "type": "string"},
        {"name": "what", "source": expected[1], "type": "string"},
        {"name": "city", "source": "city", "type": "string", "nullable": True},  # no conflict
    ]
    resolution = {"strategy": strategy, "left_modifier": left, "right_modifier": right}
    rows = await joined(config(columns=columns, conflict_resolution=resolution))
    assert rows[0] == {"who": "Ann", "what": "book", "city": "Oslo"}


async def test_unrenamed_conflicting_name_is_not_found() -> None:
    columns = [{"name": "n", "source": "name", "type": "string"}]
    with pytest.raises(BlockError) as raised:
        await joined(config(columns=columns))
    assert raised.value.error_type == "invalid_join_reference"
    assert "people_name" in raised.value.message


async def test_type_conversions() -> None:
    rows = [
        {
            "i": "42",
            "f": 3.0,
            "n": "2.5",
            "b": "Yes",
            "o": '{"a": [1]}',
            "s": {"k": 1},
            "x": "anything",
        }
    ]
    columns = [
        {"name": "i", "source": "t.i", "type": "integer"},
        {"name": "f", "source": "t.f", "type": "integer"},
        {"name": "n", "source": "t.n", "type": "number"},
        {"name": "b", "source": "t.b", "type": "boolean"},
        {"name": "o", "source": "t.o", "type": "object"},
        {"name": "s", "source": "t.s", "type": "string"},
        {"name": "x", "source": "t.x", "type": "null"},
    ]
    cfg = {"base_dataset": "t", "joins": [], "output_columns": columns}
    assert await joined(cfg, t=rows) == [
        {"i": 42, "f": 3, "n": 2.5, "b": True, "o": {"a": [1]}, "s": '{"k":1}', "x": None}
    ]


@pytest.mark.parametrize(
    "value, kind, nullable, message",
    [
        ("4.5", "integer", False, "row 1, column 'c': cannot convert \"4.5\" to integer"),
        ("abc", "number", False, "row 1, column 'c': cannot convert \"abc\" to number"),
        ("maybe", "boolean", False, 'cannot convert "maybe" to boolean'),
        (None, "string", False, "row 1, column 'c': null in a non-nullable column"),
        ("  ", "integer", False, "null in a non-nullable column"),
    ],
)
async def test_conversion_failures(value: Any, kind: str, nullable: bool, message: str) -> None:
    cfg = {
        "base_dataset": "t",
        "joins": [],
        "output_columns": [{"name": "c", "source": "t.c", "type": kind, "nullable": nullable}],
    }
    with pytest.raises(BlockError) as raised:
        await joined(cfg, t=[{"c": "1"}, {"c": value}])
    assert raised.value.error_type == "join_type_error"
    assert message in raised.value.message


async def test_nullable_accepts_null() -> None:
    cfg = {
        "base_dataset": "t",
        "joins": [],
        "output_columns": [{"name": "c", "source": "c", "type": "integer", "nullable": True}],
    }
    assert await joined(cfg, t=[{"c": ""}, {"c": None}]) == [{"c": None}, {"c": None}]


async def test_three_way_join_with_qualified_left_key() -> None:
    cities = [{"city": "Oslo", "country": "NO"}, {"city": "Rome", "country": "IT"}]
    cfg = {
        "base_dataset": "people",
        "joins": [
            {"dataset": "orders", "left_key": "people.id", "right_key": "orders.person"},
            {"dataset": "cities", "left_key": "city", "right_key": "city", "join_type": "left"},
        ],
        "output_columns": [
            {"name": "order", "source": "order", "type": "string"},
            {"name": "country", "source": "country", "type": "string"},
        ],
    }
    rows = await joined(cfg, people=PEOPLE, orders=ORDERS, cities=cities)
    assert rows == [
        {"order": "o1", "country": "NO"},
        {"order": "o3", "country": "NO"},
        {"order": "o2", "country": "IT"},
    ]


async def test_ambiguous_and_unknown_keys() -> None:
    cfg = config()
    cfg["joins"][0]["left_key"] = "nope"
    with pytest.raises(BlockError) as raised:
        await joined(cfg)
    assert raised.value.error_type == "invalid_join_reference"
    cfg = config()
    cfg["joins"][0]["right_key"] = "nope"
    with pytest.raises(BlockError):
        await joined(cfg)


async def test_tables_from_datasets_in_a_pipeline() -> None:
    ctx = InMemoryContext()
    ctx.add_dataset("ds_people", PEOPLE)
    ctx.add_dataset("ds_orders", ORDERS)
    cfg = config()
    cfg["dataset_names"] = {"people": "ds_people"}  # orders comes through its port
    cfg["joins"][0]["dataset"] = "ds_orders"  # ... or by dataset id
    cfg["output_columns"] = [
        {"name": "person", "source": "people_name", "type": "string"},
        {"name": "order", "source": "ds_orders.order", "type": "string"},
    ]
    doc = document(entry("j", "join", cfg), out("o"), connections=[conn("j", "o")])
    result = await run(doc, ctx=ctx)
    assert_completed(result)
    assert result.output == {
        "o": [
            {"person": "Ann", "order": "o1"},
            {"person": "Ann", "order": "o3"},
            {"person": "Bo", "order": "o2"},
        ]
    }
    # a dataset reference on a port is loaded too
    doc = document(
        entry("ref", "constant", {"config_value": {"dataset_id": "ds_people"}}),
        entry("j", "join", config()),
        entry("d", "dataset", {"dataset_id": "ds_orders"}),
        out("o"),
        connections=[
            conn("ref", "j", "data", "people"),
            conn("d", "j", "data", "orders"),
            conn("j", "o"),
        ],
    )
    result = await run(doc, ctx=ctx)
    assert_completed(result)
    assert len(result.output["o"]) == 3  # type: ignore[index]


async def test_missing_dataset() -> None:
    with pytest.raises(BlockError) as raised:
        await run_block("join", config(), {"people": PEOPLE}, InMemoryContext())
    assert raised.value.error_type == "dataset_not_found"


async def test_empty_tables() -> None:
    assert await joined(config("full"), people=[], orders=[]) == []
