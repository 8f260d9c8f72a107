"""validate: each kind of bad input gives the right report entry (exact row, line, column)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from moderately.tabular import Column, ParsingOptions, ValidationIssue, validate

Write = Callable[..., Path]

SCHEMA = [
    Column("id", "integer", nullable=False),
    Column("name", "string"),
    Column("price", "float"),
    Column("active", "boolean"),
    Column("day", "date"),
]
GOOD = (
    "id,name,price,active,day\n"
    "1,Widget,9.99,true,2024-01-31\n"
    '2,"Gadget, large",10,no,2024-02-29\n'
    '3,"two\nline name",-0.5,Y,2023-12-01\n'
)


def only(report: Any) -> ValidationIssue:
    assert len(report.errors) == 1, report.errors
    issue: ValidationIssue = report.errors[0]
    return issue


def test_clean_file(write: Write) -> None:
    report = validate(write(GOOD), SCHEMA)
    assert report.ok, report.errors
    assert report.record_count == 3
    assert report.error_count == 0 and report.errors == ()
    assert report.columns_found == ("id", "name", "price", "active", "day")
    assert report.summary() == "ok: 3 records"


def test_columns_as_wire_dicts_and_options_as_wire_dict(write: Write) -> None:
    path = write(GOOD.replace(",", ";").replace('"Gadget; large"', "Gadget"))
    columns = [
        {"name": "id", "type": "int", "nullable": False},
        {"name": "day", "type": "datetime"},
    ]
    report = validate(path, columns, {"delimiter": ";", "headerRow": 1})
    assert report.ok, report.errors


def test_type_mismatch_exact_position(write: Write) -> None:
    # Row 3 starts on line 5 because row 2 spans two lines.
    path = write(
        "id,name,price,active,day\n"
        "1,a,1.5,true,2024-01-01\n"
        '2,"b\nb",2,false,2024-01-02\n'
        "3,c,abc,true,2024-01-03\n"
    )
    issue = only(validate(path, SCHEMA))
    assert (issue.kind, issue.row, issue.line, issue.column, issue.value) == (
        "type_mismatch",
        3,
        5,
        "price",
        "abc",
    )
    assert "expected a number" in issue.message and "'abc'" in issue.message


def test_required_blank(write: Write) -> None:
    path = write("id,name\n1,a\n,b\n  ,c\n4,\n")
    report = validate(path, [Column("id", "integer", nullable=False), Column("name", "string")])
    assert [(e.kind, e.row, e.line, e.column) for e in report.errors] == [
        ("required_blank", 2, 3, "id"),
        ("required_blank", 3, 4, "id"),  # whitespace only is blank
    ]
    assert report.counts == {"required_blank": 2}
    assert report.column_counts == {"id": {"required_blank": 2}}


def test_blank_in_nullable_typed_column_is_fine(write: Write) -> None:
    path = write('id,price\n1,\n2,""\n3, \n')
    assert validate(path, [Column("id", "integer"), Column("price", "float")]).ok


def test_missing_schema_column(write: Write) -> None:
    path = write("id,name\n1,a\nx,b\n")
    report = validate(
        path, [Column("id", "integer"), Column("name", "string"), Column("email", "string")]
    )
    kinds = [(e.kind, e.row, e.line, e.column) for e in report.errors]
    # The missing column comes first (file-level), and the other columns are still checked.
    assert kinds == [("missing_column", None, 1, "email"), ("type_mismatch", 2, 3, "id")]
    assert "'email' is not in the header" in report.errors[0].message


def test_source_and_case_insensitive_header_match(write: Write) -> None:
    path = write("Customer ID, Unit Price \n1,2.5\n")
    columns = [
        Column("customer_id", "integer", source="Customer ID"),
        Column("unit price", "float"),
    ]
    assert validate(path, columns).ok


@pytest.mark.parametrize(
    ("content", "actual"),
    [
        ("id;name;price\n1;a;2,5\n2;b;3\n", ";"),
        ("id\tname\tprice\n1\ta\t2.5\n", "\t"),
        ("id|name|price\n1|a|2.5\n", "|"),
    ],
)
def test_wrong_delimiter(write: Write, content: str, actual: str) -> None:
    columns = [Column("id", "integer"), Column("name", "string"), Column("price", "float")]
    report = validate(write(content), columns)
    issue = only(report)
    assert issue.kind == "wrong_delimiter"
    assert issue.line == 1
    assert f"Set parsingOptions.delimiter to {actual!r}" in issue.message
    assert "0 of the 3 schema columns" in issue.message
    # With the right delimiter the same file is fine (the European decimal is a string here).
    fixed = validate(write(content), columns[:2], {"delimiter": actual})
    assert fixed.ok, fixed.errors


def test_ragged_rows(write: Write) -> None:
    path = write(
        "a,b,c\n"
        '1,"x\ny",3\n'  # row 1, lines 2-3
        "2,3\n"  # row 2, line 4: too few
        "4,5,6,7\n"  # row 3, line 5: too many
        "8,9,10\n"
    )
    report = validate(path, [Column("a", "integer"), Column("c", "integer")])
    got = [(e.kind, e.row, e.line, e.value) for e in report.errors]
    assert got == [("ragged_row", 2, 4, "2,3"), ("ragged_row", 3, 5, "4,5,6,7")]
    assert report.errors[0].message == "ragged row: 2 fields, the header has 3"
    assert report.errors[1].message == "ragged row: 4 fields, the header has 3"
    assert report.record_count == 4
    assert report.counts == {"ragged_row": 2}


def test_rows_after_a_rejected_record_keep_their_numbers(write: Write) -> None:
    path = write("a,b\n1,2\n\n3\n4,5\nx,6\n")  # blank line 3; ragged row 2 (line 4); bad a row 4
    report = validate(path, [Column("a", "integer"), Column("b", "integer")])
    got = [(e.kind, e.row, e.line, e.column) for e in report.errors]
    assert got == [("ragged_row", 2, 4, None), ("type_mismatch", 4, 6, "a")]


@pytest.mark.parametrize("max_errors", [3, 20])
def test_many_rejected_records_before_a_value_error(write: Write, max_errors: int) -> None:
    path = write("a,b\n" + "1\n" * 10 + "x,2\n")  # rows 1-10 ragged; row 11 (line 12) bad "a"
    report = validate(path, [Column("a", "integer")], max_errors=max_errors)
    assert report.counts == {"ragged_row": 10, "type_mismatch": 1}
    assert report.record_count == 11
    got = [(e.kind, e.row, e.line) for e in report.errors]
    expected = [("ragged_row", r, r + 1) for r in range(1, 11)] + [("type_mismatch", 11, 12)]
    assert got == expected[:max_errors]


def test_malformed_csv_unterminated_quote(write: Write) -> None:
    path = write('a,b\n1,ok\n2,"never closed\n3,x\n')
    report = validate(path, [Column("a", "integer"), Column("b", "string")])
    issue = only(report)
    assert (issue.kind, issue.row, issue.line, issue.column) == ("malformed_csv", 2, 3, "b")
    assert "not closed properly" in issue.message
    assert not report.ok


def test_malformed_csv_text_after_closing_quote(write: Write) -> None:
    path = write('a,b\n1,"ab"c\n2,d\n')
    issue = only(validate(path, [Column("a", "integer"), Column("b", "string")]))
    assert (issue.kind, issue.row, issue.line, issue.column) == ("malformed_csv", 1, 2, "b")


def test_non_utf8_bytes(write: Write) -> None:
    path = write(b"id,city\n1,Paris\n2,Z\xfcrich\n3,Rome\n")
    report = validate(path, [Column("id", "integer"), Column("city", "string")])
    issue = only(report)
    assert (issue.kind, issue.row, issue.line, issue.column) == ("encoding", 2, 3, "city")
    assert "not valid UTF-8" in issue.message and "parsingOptions.encoding" in issue.message
    assert report.record_count == 3
    # Declared correctly, the same bytes are fine.
    assert validate(path, [Column("city", "string")], {"encoding": "latin-1"}).ok


def test_bytes_invalid_in_a_declared_encoding(write: Write) -> None:
    path = write(b"id,name\n1,ok\n2,caf\xc3\xa9\n")  # UTF-8, declared ASCII
    report = validate(path, [Column("id", "integer")], {"encoding": "ascii"})
    issue = only(report)
    assert (issue.kind, issue.line) == ("encoding", 3)
    assert "not valid ascii" in issue.message


def test_error_cap_keeps_full_counts(write: Write) -> None:
    rows = "".join(f"{i},x{i}\n" for i in range(1, 501))
    path = write("id,score\n" + rows)
    report = validate(
        path, [Column("id", "integer"), Column("score", "integer", nullable=False)], max_errors=10
    )
    assert len(report.errors) == 10
    assert [e.row for e in report.errors] == list(range(1, 11))
    assert report.error_count == 500 and report.truncated
    assert report.counts == {"type_mismatch": 500}
    assert report.column_counts == {"score": {"type_mismatch": 500}}
    assert report.record_count == 500


def test_errors_ordered_by_row_then_schema_position(write: Write) -> None:
    path = write("a,b,c\n1,x,2\ny,2,z\n")
    columns = [Column("c", "integer"), Column("a", "integer"), Column("b", "integer")]
    got = [(e.row, e.column) for e in validate(path, columns).errors]
    assert got == [(1, "b"), (2, "c"), (2, "a")]


def test_long_values_are_truncated(write: Write) -> None:
    path = write("a\n" + "z" * 5000 + "\n")
    issue = only(validate(path, [Column("a", "integer")]))
    assert issue.value is not None and len(issue.value) == 80 and issue.value.endswith("…")


def test_empty_file(write: Write) -> None:
    report = validate(write(""), SCHEMA)
    issue = only(report)
    assert (issue.kind, issue.line) == ("empty_file", 1)
    assert report.record_count == 0
    assert validate(write(""), []).ok  # nothing expected, nothing wrong


def test_header_only_file_is_valid_with_a_warning(write: Write) -> None:
    report = validate(write("id,name,price,active,day"), SCHEMA)
    assert report.ok and report.record_count == 0
    assert "the file has no data rows" in report.warnings


def test_unknown_types_and_extra_columns_are_warnings(write: Write) -> None:
    path = write("a,b,extra\n1,anything,z\n")
    report = validate(path, [Column("a", "integer"), Column("b", "geo_point")])
    assert report.ok
    assert report.warnings == (
        "types not checked (unknown): geo_point",
        "columns in the data but not in the schema: 'extra'",
    )


def test_header_row_skip_rows_and_original_line_numbers(write: Write) -> None:
    path = write(
        "Quarterly export\n"  # line 1 (skipped: above the header)
        "id,price\n"  # line 2: header
        "#,EUR\n"  # line 3: units, skipped by index
        "1,2.5\n"  # line 4: row 1
        "2,oops\n"  # line 5: row 2
    )
    report = validate(
        path, [Column("id", "integer"), Column("price", "float")], {"skipRows": [0, 2]}
    )
    issue = only(report)
    assert (issue.row, issue.line, issue.column) == (2, 5, "price")
    assert report.record_count == 2
    same = validate(path, [Column("id", "integer")], ParsingOptions(header_row=2, skip_rows=(2,)))
    assert same.ok and same.record_count == 2


def test_tsv(write: Write) -> None:
    path = write('id\tnote\n1\t"a, b"\n2\tc\n', "data.tsv")
    report = validate(
        path, [Column("id", "integer"), Column("note", "string")], {"delimiter": "\t"}
    )
    assert report.ok and report.record_count == 2


def test_crlf_bom_and_no_final_newline(write: Write) -> None:
    path = write("\ufeffid,when\r\n1,2024-01-01T10:00:00Z\r\n2,2024-01-02 11:30")
    report = validate(path, [Column("id", "integer"), Column("when", "datetime", nullable=False)])
    assert report.ok and report.record_count == 2


def test_duplicate_and_blank_header_names(write: Write) -> None:
    path = write("a,a,,b\n1,2,3,4\n")
    report = validate(path, [Column("a_2", "integer"), Column("column_3", "integer")])
    assert report.ok
    assert report.columns_found == ("a", "a_2", "column_3", "b")


def test_report_is_json_ready(write: Write) -> None:
    path = write("id\n1\nx\n")
    wire = validate(path, [Column("id", "integer")]).to_wire()
    assert json.loads(json.dumps(wire)) == wire
    assert wire["ok"] is False and wire["recordCount"] == 2 and wire["errorCount"] == 1
    assert wire["errors"] == [
        {
            "kind": "type_mismatch",
            "row": 2,
            "line": 3,
            "column": "id",
            "value": "x",
            "message": "expected an integer (e.g. 42, -7), got 'x'",
        }
    ]
    assert wire["summary"].startswith("1 errors (1 type_mismatch) in 2 records; first: row 2")


def test_io_errors_raise_but_bad_options_are_value_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        validate(tmp_path / "nope.csv", SCHEMA)
    with pytest.raises(ValueError):
        validate(tmp_path / "nope.csv", SCHEMA, {"headerRow": 0})


@pytest.mark.parametrize(
    ("type_", "value", "ok"),
    [
        ("integer", "42", True),
        ("integer", " -7 ", True),
        ("integer", "+3", True),
        ("integer", "007", True),  # a valid integer when the schema says so
        ("integer", "1.0", False),
        ("integer", "1e3", False),
        ("integer", "1,000", False),
        ("integer", "0x10", False),
        ("integer", "9223372036854775807", True),
        ("integer", "9223372036854775808", False),  # beyond 64 bits
        ("float", "3.14", True),
        ("float", "-2", True),
        ("float", ".5", True),
        ("float", "6.02e23", True),
        ("float", "NaN", True),
        ("float", "-inf", True),
        ("float", "1,5", False),
        ("float", "abc", False),
        ("boolean", "TRUE", True),
        ("boolean", "no", True),
        ("boolean", "Y", True),
        ("boolean", "f", True),
        ("boolean", "1", True),
        ("boolean", "0", True),
        ("boolean", "2", False),
        ("boolean", "on", False),
        ("date", "2024-02-29", True),
        ("date", "2023-02-29", False),
        ("date", "2024-1-5", False),
        ("date", "31/01/2024", False),
        ("date", "2024-01-01T00:00:00", False),
        ("datetime", "2024-01-01", True),
        ("datetime", "2024-01-01T10:00", True),
        ("datetime", "2024-01-01 10:00:00", True),
        ("datetime", "2024-01-01T10:00:00.123456Z", True),
        ("datetime", "2024-01-01T10:00:00+05:30", True),
        ("datetime", "2024-01-01T10:00:00-0800", True),
        ("datetime", "2024-01-01T25:00:00", False),
        ("datetime", "2024-13-01T10:00:00", False),
        ("datetime", "01/02/2024 10:00", False),
        ("time", "10:30", True),
        ("time", "23:59:59.5", True),
        ("time", "24:61", False),
        ("string", "anything at all", True),
    ],
)
def test_type_acceptance(write: Write, type_: str, value: str, ok: bool) -> None:
    path = write(f'v\n"{value}"\n')
    report = validate(path, [Column("v", type_)])
    assert report.ok is ok, report.errors


def test_quote_and_escape_options(write: Write) -> None:
    unquoted = write('a,b\n1,"x\n2,y"\n')  # quotes are plain characters here
    report = validate(unquoted, [Column("a", "integer"), Column("b", "string")], {"quote": ""})
    assert report.ok and report.record_count == 2
    escaped = write('a,b\n1,"x \\" y"\nz,"q"\n')
    report = validate(escaped, [Column("a", "integer"), Column("b", "string")], {"escape": "\\"})
    assert [(e.row, e.line, e.value) for e in report.errors] == [(2, 3, "z")]


def test_header_with_a_quoted_newline(write: Write) -> None:
    path = write('a,"b\nc"\n1,2\nx,3\n')
    report = validate(path, [Column("a", "integer"), Column("b\nc", "integer")])
    assert [(e.row, e.line, e.column) for e in report.errors] == [(2, 4, "a")]


def test_non_utf8_encoding_with_skipped_lines_keeps_original_line_numbers(write: Write) -> None:
    text = 'junk\na,b\nunits,u\n1,2\n"x\ny",3\nz,4\n'
    path = write(text, encoding="utf-16")
    report = validate(path, [Column("a", "integer")], {"encoding": "utf-16", "skipRows": [0, 2]})
    assert [(e.row, e.line, e.value) for e in report.errors] == [(2, 5, "x\ny"), (3, 7, "z")]
    assert report.record_count == 3


def test_mixed_line_endings(write: Write) -> None:
    # DuckDB's strict reader gives up on mixed CRLF/LF; the retry on an LF copy keeps positions.
    path = write('a,b\r\n1,"x\r\ny"\r\n2,3\n4,oops\r\n5\n')
    report = validate(path, [Column("a", "integer"), Column("b", "integer")])
    got = [(e.kind, e.row, e.line, e.column) for e in report.errors]
    assert got == [
        ("type_mismatch", 1, 2, "b"),
        ("type_mismatch", 3, 5, "b"),
        ("ragged_row", 4, 6, None),
    ]
    assert report.record_count == 4
