"""Dataset rows as text for a model's prompt, and case-insensitive column lookup (the AI
blocks: `llm`'s dataset context, the legal blocks' definitions, references and research)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .context import DatasetRows
from .values import to_text


def cell(value: Any) -> str:
    """A value as a CSV cell: null empty, booleans lower-case, objects and arrays as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return to_text(value)


def csv_lines(rows: DatasetRows) -> Iterator[str]:
    """The header line, then one CSV line per row (each ending in a newline)."""
    columns = rows.column_names()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def line(values: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([cell(value) for value in values])
        return buffer.getvalue()

    yield line(columns)
    for row in rows.rows:
        yield line(row.get(column) for column in columns)


def csv_within(rows: DatasetRows, limit: int) -> tuple[str, int]:
    """The rows as CSV (header first) cut to whole lines within `limit` characters, and how
    many rows that holds."""
    parts: list[str] = []
    left = limit
    for line in csv_lines(rows):
        if len(line) > left:
            break
        parts.append(line)
        left -= len(line)
    return "".join(parts).rstrip("\n"), max(len(parts) - 1, 0)


def truncation_note(shown: int, total: int, limit: int) -> str:
    return f"[truncated: {shown:,} of {total:,} rows shown; limited to {limit:,} characters]"


def capped_csv(rows: DatasetRows, limit: int) -> str:
    """`csv_within`, with a note when rows were left out."""
    text, shown = csv_within(rows, limit)
    if shown < len(rows.rows):
        text += "\n" + truncation_note(shown, len(rows.rows), limit)
    return text


def column_lookup(rows: DatasetRows) -> dict[str, str]:
    """Lower-cased, trimmed column name -> the column's name as stored (the first one wins)."""
    found: dict[str, str] = {}
    for name in rows.column_names():
        found.setdefault(name.strip().lower(), name)
    return found


def cell_text(row: Mapping[str, Any], column: str | None) -> str:
    """A row's value in `column` as trimmed text ("" when absent or null)."""
    if column is None:
        return ""
    value = row.get(column)
    return "" if value is None else cell(value).strip()
