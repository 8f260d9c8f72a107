"""Reading a delimited file as typed rows, for the pipeline `dataset` blocks.

``read_rows(path, columns, options)`` returns ``(rows, columns)``: one dict per data record, keyed
by the schema column ``name`` and read from the header column named by ``source`` (else ``name``,
else the 1-based ``pos``). Types: ``integer`` → int, ``float`` → float, ``boolean`` → bool
(``true/t/yes/y/1`` and ``false/f/no/n/0``, any case), dates and times → the ISO string as
written, anything else → str. An empty cell is ``None``; a value that does not convert stays the
original string. Without columns: the header names as keys and every value a string.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._source import csv_kwargs, prepare, raise_field_limit
from .coltypes import BOOL_FALSE, BOOL_TRUE
from .options import Column, ParsingOptions, columns_from_wire


def convert(type_: str, raw: str) -> Any:
    text = raw.strip()
    if not text:
        return None
    try:
        if type_ == "integer":
            return int(text)
        if type_ == "float":
            value = float(text)
            return value if math.isfinite(value) else raw
    except ValueError:
        return raw
    if type_ == "boolean":
        lowered = text.lower()
        if lowered in BOOL_TRUE:
            return True
        if lowered in BOOL_FALSE:
            return False
        return raw
    if type_ in ("date", "datetime", "time"):
        return text
    return raw


def read_rows(
    path: str | Path,
    columns: Sequence[Mapping[str, Any] | Column] | None,
    options: Mapping[str, Any] | ParsingOptions | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    parsing = ParsingOptions.from_wire(options)
    schema = columns_from_wire(columns or [])
    raise_field_limit()
    with prepare(path, parsing) as source:
        names = source.names
        if schema:
            picks: list[tuple[str, str, int | None]] = []
            for column in schema:
                index: int | None = None
                if column.header_name in names:
                    index = names.index(column.header_name)
                elif column.pos is not None and 0 < column.pos <= len(names):
                    index = column.pos - 1
                picks.append((column.name, column.type, index))
            described = [{"name": c.name, "type": c.type} for c in schema]
        else:
            picks = [(name, "string", i) for i, name in enumerate(names)]
            described = [{"name": name, "type": "string"} for name in names]
        rows: list[dict[str, Any]] = []
        if source.header is None:
            return rows, described
        with source.data_text() as text:
            reader = csv.reader(text, **csv_kwargs(parsing))  # type: ignore[arg-type]
            next(reader, None)  # the header
            for record in reader:
                if not record or record == [""]:
                    continue
                row: dict[str, Any] = {}
                for name, type_, index in picks:
                    raw = record[index] if index is not None and index < len(record) else ""
                    row[name] = convert(type_, raw) if schema else (raw if raw != "" else None)
                rows.append(row)
        return rows, described
