"""Bounds of the data engine: option limits, header width and length, linear header naming."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from moderately.tabular import (
    MAX_COLUMNS,
    MAX_HEADER_CHARS,
    MAX_HEADER_ROW,
    MAX_LINE_INDEX,
    MAX_SKIP_ROW_LINES,
    MAX_SKIP_ROWS,
    Column,
    HeaderTooLarge,
    ParsingOptions,
    count_rows,
    infer,
    sniff_options,
    validate,
)
from moderately.tabular._source import dedupe_names


def quadratic_dedupe(fields: list[str]) -> list[str]:
    """The naming rule, spelled the slow obvious way: what dedupe_names must agree with."""
    names: list[str] = []
    taken: set[str] = set()
    stripped = [f.strip() for f in fields]
    reserved = {s for s in stripped if s}
    for pos, name in enumerate(stripped, start=1):
        base = name or f"column_{pos}"
        candidate, n = base, 2
        while candidate in taken or (not name and candidate in reserved):
            candidate, n = f"{base}_{n}", n + 1
        taken.add(candidate)
        names.append(candidate)
    return names


def test_many_copies_of_one_name_dedupe_in_linear_time() -> None:
    started = time.perf_counter()
    names = dedupe_names(["a"] * 8_000)
    assert time.perf_counter() - started < 1.0
    assert names == ["a"] + [f"a_{n}" for n in range(2, 8_001)]
    assert len(set(names)) == 8_000
    # Repeats, blanks and names that look like generated ones, all at scale.
    mixed = ["a", "a_2", "", "column_3", " a "] * 4_000
    started = time.perf_counter()
    names = dedupe_names(mixed)
    assert time.perf_counter() - started < 1.0
    assert len(set(names)) == len(mixed)
    assert names == quadratic_dedupe(mixed)


def test_dedupe_keeps_the_naming_of_small_headers() -> None:
    assert dedupe_names(["id", "name", "name", "", " Name "]) == [
        "id",
        "name",
        "name_2",
        "column_4",
        "Name",
    ]
    assert dedupe_names(["column_2", "", "column_2"]) == ["column_2", "column_2_2", "column_2_3"]
    assert dedupe_names(["a", "a", "a_2", "a"]) == ["a", "a_2", "a_2_2", "a_3"]
    rng = random.Random(7)
    alphabet = ["a", "a_2", "a_3", "b", "", " ", "column_1", "column_2", "column_2_2", "A"]
    for _ in range(2_000):
        fields = [rng.choice(alphabet) for _ in range(rng.randint(0, 12))]
        assert dedupe_names(fields) == quadratic_dedupe(fields), fields


@pytest.mark.parametrize(
    "kwargs",
    [
        {"header_row": MAX_HEADER_ROW + 1},
        {"header_row": 10**15},
        {"skip_rows": MAX_SKIP_ROWS + 1},
        {"skip_rows": 10**30},
        {"skip_rows": tuple(range(MAX_SKIP_ROW_LINES + 1))},
        {"skip_rows": (MAX_LINE_INDEX + 1,)},
    ],
)
def test_options_beyond_the_bounds_raise_value_error(kwargs: dict[str, object]) -> None:
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"<=|at most"):
        ParsingOptions(**kwargs)  # type: ignore[arg-type]
    assert time.perf_counter() - started < 0.5


def test_options_at_the_bounds_are_cheap(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    path.write_text("a,b\n1,2\n")
    at_limit = ParsingOptions(header_row=MAX_HEADER_ROW, skip_rows=MAX_SKIP_ROWS)
    assert at_limit.header_line_index == MAX_SKIP_ROWS + MAX_HEADER_ROW - 1
    listed = ParsingOptions(header_row=MAX_HEADER_ROW, skip_rows=(0, MAX_LINE_INDEX))
    assert listed.header_line_index == MAX_HEADER_ROW
    started = time.perf_counter()
    sniffed = sniff_options(path, header_row=MAX_HEADER_ROW, skip_rows=MAX_SKIP_ROWS)
    assert sniffed.skip_rows == MAX_SKIP_ROWS
    assert count_rows(path, at_limit) == 0  # the file ends long before that header
    assert infer(path, {"headerRow": MAX_HEADER_ROW, "skipRows": MAX_SKIP_ROWS}).columns == []
    assert time.perf_counter() - started < 5


def test_header_wider_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    width = MAX_COLUMNS + 1
    header = ",".join(f"c{i}" for i in range(width))
    path.write_text(header + "\n" + ",".join("1" for _ in range(width)) + "\n")
    with pytest.raises(HeaderTooLarge, match=f"{width} columns; at most {MAX_COLUMNS}"):
        infer(path, {"delimiter": ",", "encoding": "utf-8"})
    with pytest.raises(ValueError):
        count_rows(path)
    report = validate(path, [Column("c0", "integer")])
    assert not report.ok
    assert [e.kind for e in report.errors] == ["malformed_csv"]
    assert f"at most {MAX_COLUMNS}" in report.errors[0].message


def test_header_longer_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("a," + "b" * MAX_HEADER_CHARS + "\n1,2\n")
    with pytest.raises(HeaderTooLarge, match=f"longer than {MAX_HEADER_CHARS}"):
        count_rows(path)
    # A quoted header spanning lines counts in full too.
    path.write_text('"a\n' + ("b" * 1000 + "\n") * (MAX_HEADER_CHARS // 1000) + '",c\n1,2\n')
    with pytest.raises(HeaderTooLarge):
        infer(path, {"delimiter": ",", "encoding": "utf-8"})


def test_wrong_delimiter_check_skips_a_split_too_wide(tmp_path: Path) -> None:
    """Split on ',' this header is wider than the limit: the delimiter hint ignores that split."""
    path = tmp_path / "semi.csv"
    many = ",".join("x" for _ in range(MAX_COLUMNS + 5))
    path.write_text(f"id;{many}\n1;2\n")
    report = validate(path, [Column("id", "integer")], {"delimiter": ";"})
    assert report.ok, report.summary()
