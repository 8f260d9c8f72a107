"""count_rows: data records, not line breaks."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from moderately.tabular import ParsingOptions, count_rows

Write = Callable[..., Path]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("a,b\n1,2\n3,4\n", 2),
        ("a,b\n1,2\n3,4", 2),  # no final newline
        ("a,b\r\n1,2\r\n3,4\r\n", 2),  # CRLF
        ("\ufeffa,b\n1,2\n3,4\n", 2),  # UTF-8 BOM
        ('a,b\n1,"two\nlines"\n3,"x\r\ny\r\nz"\n', 2),  # quoted newlines
        ('a,b\n1,"say ""hi"", then\nleave"\n2,3\n', 2),  # doubled quotes and a comma inside
        ("", 0),  # empty file
        ("\ufeff", 0),  # BOM only
        ("a,b\n", 0),  # header only
        ("a,b", 0),  # header only, no newline
        ("a,b\n1,2\n\n3,4\n\n\n", 2),  # blank lines are not records
        ("a,b\r\n1,2\r\n3,4\n5,6\r\n", 3),  # mixed CRLF and LF
        ("a,b\n1,2\n3,4\r\n5,6", 3),  # mixed the other way round
        ("a,b\n1,2\n3\n4,5,6\n", 3),  # ragged records still count
        ("a\n1\n\n2\n", 3),  # one column: a blank line is an empty value
        ('a,b\n1,"never closed\n2,3\n4,5\n', 1),  # an unterminated quote swallows the rest
    ],
)
def test_count_rows(write: Write, content: str, expected: int) -> None:
    assert count_rows(write(content)) == expected


def test_count_rows_counts_what_newline_counting_gets_wrong(write: Write) -> None:
    content = 'id,text\n1,"a\nb\nc"\n2,"d"'
    assert content.count("\n") - 1 == 3  # what 0.2.7 sent as rowCount
    assert count_rows(write(content)) == 2


def test_tsv_and_other_delimiters(write: Write) -> None:
    tsv = write('a\tb\n1\t"x\ty"\n2\t3\n', "data.tsv")
    assert count_rows(tsv, ParsingOptions(delimiter="\t")) == 2
    assert count_rows(tsv, {"delimiter": "\\t"}) == 2
    piped = write("a|b\n1|2\n", "data.psv")
    assert count_rows(piped, {"delimiter": "|"}) == 1


def test_header_row_and_skip_rows(write: Write) -> None:
    path = write("Report 2024\nexported by x\na,b\nunit,unit\n1,2\n3,4\n")
    assert count_rows(path, {"headerRow": 3}) == 3
    assert count_rows(path, {"skipRows": 2}) == 3
    assert count_rows(path, {"skipRows": [0, 1, 3]}) == 2  # units line below the header dropped
    assert count_rows(path, {"headerRow": 2, "skipRows": [0, 3]}) == 2


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16"])
def test_other_encodings(write: Write, encoding: str) -> None:
    path = write('name,city\nJosé,"Zürich\nCH"\nRenée,Köln\n', encoding=encoding)
    assert count_rows(path, {"encoding": encoding}) == 2


def test_invalid_utf8_rows_still_count(write: Write) -> None:
    assert count_rows(write(b"a,b\n1,caf\xe9\n2,ok\n")) == 2


def test_matches_python_csv_on_generated_files(tmp_path: Path) -> None:
    rng = random.Random(1234)
    alphabet = ["x", "y", ",", '"', "\n", "\r\n", " ", "é", "1"]
    for case in range(25):
        rows = [
            ["".join(rng.choices(alphabet, k=rng.randrange(0, 6))) for _ in range(3)]
            for _ in range(rng.randrange(0, 40))
        ]
        # A record whose only field is empty would be a blank line: keep records non-blank.
        rows = [r for r in rows if any(r)]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=rng.choice(["\n", "\r\n"]))
        writer.writerow(["a", "b", "c"])
        writer.writerows(rows)
        text = buffer.getvalue()
        if rng.random() < 0.5:
            text = text.rstrip("\r\n")  # no final newline
        path = tmp_path / f"gen{case}.csv"
        path.write_bytes(text.encode())
        assert count_rows(path) == len(rows), text


def test_io_errors_raise(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        count_rows(tmp_path / "missing.csv")
    with pytest.raises(IsADirectoryError):
        count_rows(tmp_path)
