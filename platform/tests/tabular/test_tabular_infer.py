"""infer_schema / infer / sniff_options: types from the values, not the header."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from moderately.tabular import (
    Column,
    NotDelimitedText,
    ParsingOptions,
    binary_kind,
    infer,
    infer_schema,
    sniff_options,
    validate,
)

Write = Callable[..., Path]


def one_column(write: Write, values: list[str]) -> Column:
    text = "v\n" + "".join(f'"{v}"\n' for v in values)
    (column,) = infer_schema(write(text))
    return column


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-2", "+30", "0"], "integer"),
        (["0", "1", "1", "0"], "integer"),  # 0/1 is an integer, not a boolean
        (["1.5", "2", "-3e-2", ".5"], "float"),
        (["1", "2.0", "NaN"], "float"),
        (["true", "false", "TRUE", "False"], "boolean"),
        (["yes", "no", "Yes"], "boolean"),
        (["Y", "N", "y"], "boolean"),
        (["t", "f"], "boolean"),
        (["yes", "1", "0", "no"], "boolean"),  # words with 0/1 mixed in
        (["2024-01-31", "1999-12-31"], "date"),
        (["2024-01-31T10:00:00Z", "2024-02-01 08:30"], "datetime"),
        (["2024-01-31T10:00:00+05:30", "2024-01-31T10:00:00.123456"], "datetime"),
        (["2024-01-31", "2024-02-01T08:30:00"], "datetime"),  # dates in a datetime column
        (["007", "123", "042"], "string"),  # leading zeros: codes
        (["02134", "10001", "94105"], "string"),  # zip codes
        (["00.5", "1.5"], "string"),
        (["-05", "3"], "string"),
        (["12345678901234567890123", "1"], "string"),  # too big for 64 bits: an identifier
        (["1", "two", "3"], "string"),  # mixed
        (["2024-02-30"], "string"),  # not a real date
        (["31/01/2024", "01/02/2024"], "string"),  # ambiguous: not ISO
        (["1,000", "2,500"], "string"),  # thousands separators
        (["on", "off"], "string"),
        ([" 42 ", "7"], "integer"),  # surrounding spaces are ignored
    ],
)
def test_types(write: Write, values: list[str], expected: str) -> None:
    column = one_column(write, values)
    assert column.type == expected
    assert column.nullable is False


def test_blanks_make_nullable(write: Write) -> None:
    text = "a,b,c\n1,,x\n,2.5,\n3,1.5,\n"
    columns = infer_schema(write(text))
    assert [(c.name, c.type, c.nullable) for c in columns] == [
        ("a", "integer", True),
        ("b", "float", True),
        ("c", "string", True),
    ]


def test_all_blank_column_is_nullable_string(write: Write) -> None:
    (_, empty) = infer_schema(write("a,b\n1,\n2, \n"))
    assert (empty.type, empty.nullable) == ("string", True)


def test_header_only_file(write: Write) -> None:
    columns = infer_schema(write("a,b\n"))
    assert [(c.name, c.type, c.nullable) for c in columns] == [
        ("a", "string", True),
        ("b", "string", True),
    ]
    assert infer_schema(write("")) == []


def test_names_order_dedupe_and_blanks(write: Write) -> None:
    columns = infer_schema(write(" id ,name,name,,Name\n1,a,b,c,d\n"))
    assert [c.name for c in columns] == ["id", "name", "name_2", "column_4", "Name"]
    assert [c.pos for c in columns] == [1, 2, 3, 4, 5]


def test_types_come_from_values_not_header(write: Write) -> None:
    columns = infer_schema(write("count,date,flag\nmany,soon,maybe\n"))
    assert {c.type for c in columns} == {"string"}


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ('a,b,c\n1,"x;y",3\n4,5,6\n', ","),
        ("a;b;c\n1;2,5;3\n4;5,5;6\n", ";"),  # European decimals
        ("a\tb\tc\n1\tx, y\t3\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        ("single\nx\ny\n", ","),
        ('name,quote\nAda,"a; b; c"\nBob,"d; e"\n', ","),
    ],
)
def test_delimiter_sniffing(write: Write, text: str, delimiter: str) -> None:
    path = write(text)
    assert sniff_options(path).delimiter == delimiter
    result = infer(path)
    assert result.options.delimiter == delimiter
    assert validate(path, result.columns, result.options).ok


def test_encoding_sniffing(write: Write) -> None:
    text = "name,city\nJosé,Zürich\n"
    assert sniff_options(write(text)).encoding == "utf-8"
    assert sniff_options(write(text, encoding="cp1252")).encoding == "cp1252"
    assert sniff_options(write(text, encoding="utf-16")).encoding == "utf-16"
    inferred = infer(write(text, encoding="utf-16"))
    assert [c.name for c in inferred.columns] == ["name", "city"]


def test_sniff_from_the_header_row(write: Write) -> None:
    path = write("Exported 2024-01-01, by admin, v2\na;b\n1;2\n")
    options = sniff_options(path, header_row=2)
    assert (options.delimiter, options.header_row) == (";", 2)
    assert [(c.name, c.type) for c in infer_schema(path, options)] == [
        ("a", "integer"),
        ("b", "integer"),
    ]


def test_given_options_are_used_as_they_are(write: Write) -> None:
    path = write("a;b\n1;2\n")
    (only,) = infer_schema(path, ParsingOptions(delimiter=","))
    assert only.name == "a;b"
    assert [c.name for c in infer_schema(path, {"delimiter": ";"})] == ["a", "b"]


def test_sample_rows_bounds_the_read(write: Write) -> None:
    rows = "".join(f"{i}\n" for i in range(1000)) + "not a number\n"
    path = write("n\n" + rows)
    sampled = infer(path, sample_rows=100)
    assert (sampled.columns[0].type, sampled.rows_sampled, sampled.sampled_all) == (
        "integer",
        100,
        False,
    )
    full = infer(path, sample_rows=None)
    assert (full.columns[0].type, full.rows_sampled, full.sampled_all) == ("string", 1001, True)
    with pytest.raises(ValueError):
        infer(path, sample_rows=0)


def test_quoted_newlines_and_crlf(write: Write) -> None:
    path = write('id,note,when\r\n1,"a\r\nb",2024-01-01\r\n2,c,2024-01-02')
    columns = infer_schema(path)
    assert [(c.name, c.type) for c in columns] == [
        ("id", "integer"),
        ("note", "string"),
        ("when", "date"),
    ]


def test_ragged_rows_do_not_break_inference(write: Write) -> None:
    columns = infer_schema(write("a,b\n1,2\n3\n4,5,6\n7,8\n"))
    assert [(c.name, c.type) for c in columns] == [("a", "integer"), ("b", "integer")]


def test_inferred_schema_validates_its_file(tmp_path: Path) -> None:
    """Inference and validation share their predicates: what is inferred always validates."""
    rng = random.Random(99)
    pools = [
        ["1", "-2", "300", ""],
        ["1.5", "2", "-0.25", "1e3", ""],
        ["true", "no", "Y", "0", "1"],
        ["2024-01-01", "2024-02-29", ""],
        ["2024-01-01T10:00:00Z", "2024-01-01", "2024-06-01 12:00"],
        ["007", "123", "x, y", 'say "hi"', "a\nb", ""],
        ["10:30", "NaN", "inf", "3"],
    ]
    for case in range(20):
        width = rng.randrange(1, len(pools) + 1)
        chosen = rng.sample(pools, width)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([f"c{i}" for i in range(width)])
        for _ in range(rng.randrange(1, 30)):
            row = [rng.choice(pool) for pool in chosen]
            if any(row):
                writer.writerow(row)
        path = tmp_path / f"case{case}.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        inferred = infer(path, sample_rows=None)
        report = validate(path, inferred.columns, inferred.options)
        assert report.ok, (buffer.getvalue(), inferred.columns, report.errors)


def test_mixed_line_endings(write: Write) -> None:
    columns = infer_schema(write("a,b\r\n1,x\n2,y\r\n"))
    assert [(c.name, c.type) for c in columns] == [("a", "integer"), ("b", "string")]


XLSX_HEAD = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml xl/workbook.xml"


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (XLSX_HEAD + b"junk\x00", "an Excel workbook (.xlsx)"),
        (b"PK\x03\x04junk\x00", "a ZIP archive"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
        (b"a,b\n1,\x002\n", "binary data (it contains NUL bytes)"),
    ],
)
def test_binary_input_is_refused(write: Write, content: bytes, kind: str) -> None:
    path = write(content)
    assert binary_kind(path) == kind
    with pytest.raises(NotDelimitedText) as caught:
        infer(path)
    assert str(caught.value) == (
        f"only delimited text (CSV/TSV) can be inferred; this file looks like {kind}"
    )
    with pytest.raises(ValueError):  # given options do not get past it either
        infer(path, {"delimiter": ",", "encoding": "latin-1"})


def test_wide_text_is_not_binary(write: Write) -> None:
    assert binary_kind(write("a,b\n1,2\n", encoding="utf-16")) is None  # BOM
    no_bom = write("a,b\n1,2\n", encoding="utf-16-le")
    assert binary_kind(no_bom) is not None
    assert binary_kind(no_bom, encoding="utf-16-le") is None
    assert [c.name for c in infer_schema(no_bom, {"encoding": "utf-16-le"})] == ["a", "b"]


def test_partial_options_sniff_the_rest(write: Write) -> None:
    path = write("x;y\n1;2\n")
    for given in ({"headerRow": 1}, {"encoding": "utf-8"}, {"skipRows": 0}, {}):
        inferred = infer(path, given)
        assert inferred.options.delimiter == ";", given
        assert [c.name for c in inferred.columns] == ["x", "y"], given
    cp = write("Note: caf\xe9\nx|y\n1|2\n", "cp.csv", encoding="cp1252")
    inferred = infer(cp, {"headerRow": 2})
    assert (inferred.options.delimiter, inferred.options.encoding) == ("|", "cp1252")
    assert inferred.options.header_row == 2
    kept = infer(cp, {"headerRow": 2, "encoding": "latin-1"})
    assert (kept.options.delimiter, kept.options.encoding) == ("|", "iso8859-1")
    assert [c.name for c in infer(path, {"delimiter": ","}).columns] == ["x;y"]  # given: kept
