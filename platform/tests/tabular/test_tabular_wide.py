"""Inference of wide files: past WIDE_COLUMNS the type masks come from one expression over the
unpivoted sample (tabular/inference.py), and the answer is the same as the narrow path's."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderately import tabular
from moderately.tabular import inference

VALUES = ["1", "0", "007", "3.5", "true", "no", "2024-01-02", "2024-01-02 10:00:00", "", "abc"]


def mixed_csv(path: Path, width: int, rows: int) -> Path:
    lines = [",".join(f"h{i}" for i in range(width))]
    for r in range(rows):
        # Column i mostly holds one kind of value; every seventh row a column goes blank.
        lines.append(
            ",".join("" if (r + i) % 7 == 0 else VALUES[(i + (r % 2) * (i % 3 == 0)) % 10]
                     for i in range(width))
        )  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def described(schema: tabular.InferredSchema) -> list[tuple[str, str, bool]]:
    return [(c.name, c.type, c.nullable) for c in schema.columns]


def test_wide_and_narrow_paths_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = mixed_csv(tmp_path / "mixed.csv", width=30, rows=25)
    narrow = tabular.infer(path, None)
    monkeypatch.setattr(inference, "WIDE_COLUMNS", 0)
    wide = tabular.infer(path, None)
    assert described(wide) == described(narrow)
    assert {c.type for c in narrow.columns} >= {"integer", "string", "date", "boolean"}


def test_an_all_blank_column_of_a_wide_file(tmp_path: Path) -> None:
    width = inference.WIDE_COLUMNS + 10
    header = ",".join(f"h{i}" for i in range(width))
    row = ",".join("" if i == 5 else "1" for i in range(width))
    (tmp_path / "wide.csv").write_text(f"{header}\n{row}\n{row}\n")
    schema = tabular.infer(tmp_path / "wide.csv", None)
    assert len(schema.columns) == width
    assert schema.columns[5].type == "string" and schema.columns[5].nullable
    assert schema.columns[6].type == "integer" and not schema.columns[6].nullable


def test_eight_thousand_copies_of_one_header_name(tmp_path: Path) -> None:
    width = 8000
    path = tmp_path / "dup.csv"
    path.write_text(",".join(["a"] * width) + "\n" + ",".join(["1"] * width) + "\n")
    schema = tabular.infer(path, None)
    names = [c.name for c in schema.columns]
    assert len(names) == len(set(names)) == width
    assert {c.type for c in schema.columns} == {"integer"}
