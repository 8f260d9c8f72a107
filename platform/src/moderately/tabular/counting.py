"""Counting data records (what the server records as a data version's ``rowCount``)."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from . import _duck
from ._source import Source, prepare, raise_field_limit
from .options import ParsingOptions


def count_rows(path: str | Path, options: ParsingOptions | Mapping[str, Any] | None = None) -> int:
    """Number of data records (rows after the header) in a delimited file.

    Counts records, not line breaks: a quoted field may span lines; a missing final newline, a
    UTF-8 BOM, CRLF line ends and blank lines do not change the count; an empty or header-only file
    has 0. Records that are malformed (ragged, bad bytes) still count; after an unterminated quote
    the rest of the file is one broken record. Raises ``OSError`` for I/O problems and
    ``HeaderTooLarge`` (a ``ValueError``) for a header row too wide or too long to read.
    """
    opts = ParsingOptions.from_wire(options)
    with prepare(path, opts) as source:
        if source.header is None:
            return 0
        try:
            return _duck.run(source, count_with)
        except duckdb.Error:
            return python_count(source)


def count_with(con: duckdb.DuckDBPyConnection, source: Source) -> int:
    (accepted,) = _duck.fetch_one(con, f"SELECT count(*) FROM {_duck.read_csv(source)}")
    (rejected,) = _duck.fetch_one(con, "SELECT count(DISTINCT line) FROM reject_errors")
    return int(accepted) + int(rejected)


def python_count(source: Source) -> int:
    """Slow path (a streaming csv pass) for input the DuckDB reader gives up on."""
    raise_field_limit()
    keep_blank = source.width == 1
    count = 0
    with source.data_text() as text:
        reader = csv.reader(text, **source.csv_dialect())  # type: ignore[arg-type]
        try:
            next(reader)
            for fields in reader:
                if fields or keep_blank:
                    count += 1
        except (StopIteration, csv.Error):
            pass
    return count
