"""The real example inputs (examples/data, with their notice): they infer and validate cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderately.tabular import count_rows, infer, validate

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "data"


def test_context_csv() -> None:
    path = DATA / "context.csv"  # every field quoted, no final newline
    inferred = infer(path)
    assert inferred.options.delimiter == ","
    assert [(c.name, c.type, c.nullable) for c in inferred.columns] == [
        ("source", "string", False),
        ("section", "string", False),
        ("url", "string", False),
    ]
    report = validate(path, inferred.columns, inferred.options)
    assert report.ok and report.record_count == 20
    assert count_rows(path) == 20


def test_benchmark_clauses_keeps_leading_zeros() -> None:
    path = DATA / "benchmark_clauses.csv"
    inferred = infer(path)
    assert inferred.columns[0].name == "clause_number"
    assert inferred.columns[0].type == "string"  # 001, 002, ...
    report = validate(path, inferred.columns)
    assert report.ok and report.record_count == 50
    strict = validate(path, [{"name": "clause_number", "type": "int", "required": True}])
    assert strict.ok  # "001" is a valid integer when a schema says so


@pytest.mark.parametrize(
    "name", sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.glob("*/*.csv"))
)
def test_all_example_csvs(name: str) -> None:
    path = EXAMPLES / name
    inferred = infer(path)
    report = validate(path, inferred.columns, inferred.options)
    assert report.ok, report.errors
    assert report.record_count == count_rows(path) > 0
