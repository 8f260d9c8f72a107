"""ParsingOptions and Column: wire spellings (spec 4.9, 7.3 B9-B11) and option semantics."""

from __future__ import annotations

import pytest

from moderately.tabular import Column, ParsingOptions, columns_from_wire, normalize_type


def test_defaults() -> None:
    o = ParsingOptions()
    assert (o.delimiter, o.header_row, o.skip_rows, o.encoding, o.quote, o.escape) == (
        ",",
        1,
        0,
        "utf-8",
        '"',
        None,
    )
    assert o.header_line_index == 0


@pytest.mark.parametrize(
    "wire",
    [
        {"delimiter": ";", "headerRow": 2, "skipRows": 1, "encoding": "latin-1"},
        {"delimiter": ";", "header_row": 2, "skip_rows": 1, "encoding": "ISO-8859-1"},
    ],
)
def test_from_wire_camel_and_snake(wire: dict[str, object]) -> None:
    o = ParsingOptions.from_wire(wire)
    assert (o.delimiter, o.header_row, o.skip_rows, o.encoding) == (";", 2, 1, "iso8859-1")
    assert o.header_line_index == 2


def test_to_wire_round_trip() -> None:
    o = ParsingOptions(delimiter="\t", header_row=2, skip_rows=(0, 5), encoding="utf-16")
    assert o.to_wire() == {
        "delimiter": "\t",
        "headerRow": 2,
        "skipRows": [0, 5],
        "encoding": "utf-16",
    }
    assert ParsingOptions.from_wire(o.to_wire()) == o
    assert ParsingOptions.from_wire(None) == ParsingOptions()


@pytest.mark.parametrize(
    ("given", "expected"), [("\\t", "\t"), ("tab", "\t"), ("TAB", "\t"), ("|", "|")]
)
def test_delimiter_aliases(given: str, expected: str) -> None:
    assert ParsingOptions(delimiter=given).delimiter == expected


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8", "utf-8-sig", "utf_8"])
def test_utf8_spellings_normalise(encoding: str) -> None:
    assert ParsingOptions(encoding=encoding).encoding == "utf-8"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"header_row": 0},
        {"header_row": True},
        {"skip_rows": -1},
        {"skip_rows": [1, -2]},
        {"skip_rows": "3"},
        {"delimiter": ""},
        {"delimiter": ";;"},
        {"delimiter": "\n"},
        {"delimiter": '"'},
        {"encoding": "no-such-codec"},
        {"quote": None, "escape": "\\"},
    ],
)
def test_invalid_options_raise_value_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ParsingOptions(**kwargs)  # type: ignore[arg-type]


def test_header_line_index_with_skip_list() -> None:
    # Lines 0 and 2 dropped; the 2nd remaining line (index 3) is the header.
    o = ParsingOptions(skip_rows=[0, 2, 7], header_row=2)
    assert o.header_line_index == 3
    assert o.skipped_data_lines == (7,)
    assert ParsingOptions(skip_rows=2, header_row=3).header_line_index == 4


def test_escape_equal_to_quote_means_doubling() -> None:
    assert ParsingOptions(escape='"').escape is None
    assert ParsingOptions(escape="\\").escape == "\\"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("int", "integer"),
        ("INTEGER", "integer"),
        ("str", "string"),
        ("bool", "boolean"),
        ("float", "float"),
        ("double", "float"),
        ("datetime", "datetime"),
        ("timestamp", "datetime"),
        ("date", "date"),
        ("time", "time"),
        ("geo_point", "geo_point"),
    ],
)
def test_type_aliases(given: str, expected: str) -> None:
    assert normalize_type(given) == expected


def test_column_from_wire_nullable_and_required() -> None:
    assert Column.from_wire({"name": "a", "type": "int"}).nullable is True  # B9 default
    assert Column.from_wire({"name": "a", "type": "int", "required": True}).nullable is False
    assert Column.from_wire({"name": "a", "type": "int", "nullable": False}).required is True
    both = Column.from_wire({"name": "a", "type": "int", "nullable": True, "required": True})
    assert both.nullable is True  # the wire key wins


def test_column_wire_round_trip_keeps_extra_keys() -> None:
    wire = {
        "pos": 1,
        "name": "price",
        "type": "float",
        "nullable": False,
        "source": "Price (EUR)",
        "description": "unit price",
        "operations": [{"type": "strip_whitespace"}],
    }
    column = Column.from_wire(wire)
    assert column.header_name == "Price (EUR)"
    assert column.to_wire() == wire
    assert columns_from_wire([wire]) == [column]


@pytest.mark.parametrize("wire", [{"name": "a"}, {"type": "int"}, {"name": " ", "type": "int"}])
def test_column_needs_name_and_type(wire: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        Column.from_wire(wire)


def test_unknown_type_is_kept_and_not_checked() -> None:
    column = Column("x", "Geo_Point")
    assert column.type == "Geo_Point"
    assert not column.checked


def test_no_quoting_round_trips() -> None:
    o = ParsingOptions(quote="")
    assert o.quote is None
    assert o.to_wire()["quote"] == ""
    assert ParsingOptions.from_wire(o.to_wire()) == o
    assert ParsingOptions.from_wire({"quote": None}).quote == '"'  # null: not set
