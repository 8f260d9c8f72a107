"""The DuckDB side: one in-memory connection per call, and the ``read_csv`` we always use.

Every read is explicit (no sniffing): all columns VARCHAR under positional names ``c1..cN`` (the
header is read by Python, so odd header names never reach SQL), ``strict_mode`` on, and
``store_rejects`` so that bad records land in a rejects table instead of raising: ragged rows,
unterminated quotes and invalid UTF-8 become report entries, and the scan goes on.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import duckdb

from ._source import Source, lf_copy
from .coltypes import sql_str

T = TypeVar("T")
MAX_LINE_SIZE = 32 << 20  # one record may hold up to 32 MiB
BUFFER_SIZE = 64 << 20


def column_name(index: int) -> str:
    """SQL name of the 0-based header column ``index``."""
    return f"c{index + 1}"


@contextlib.contextmanager
def connect(threads: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private in-memory database that spills to its own temporary directory."""
    with tempfile.TemporaryDirectory(prefix="mdt-duck-") as tmp:
        con = duckdb.connect(":memory:")
        try:
            con.execute(f"SET temp_directory = {sql_str(tmp)}")
            con.execute("SET preserve_insertion_order = true")
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            yield con
        finally:
            con.close()


def read_csv(source: Source, *, rejects: str = "reject_errors", scans: str = "reject_scans") -> str:
    """The ``read_csv(...)`` table expression for the data records of ``source``."""
    options = source.options
    width = max(source.width, 1)
    columns = "{" + ", ".join(f"'{column_name(i)}': 'VARCHAR'" for i in range(width)) + "}"
    quote = options.quote or ""
    escape = options.escape or quote
    args = [
        sql_str(str(source.path)),
        f"columns = {columns}",
        "header = true",
        f"skip = {source.header_index}",
        f"delim = {sql_str(options.delimiter)}",
        f"quote = {sql_str(quote)}",
        f"escape = {sql_str(escape)}",
        "auto_detect = false",
        "strict_mode = true",
        "encoding = 'utf-8'",
        f"max_line_size = {MAX_LINE_SIZE}",
        f"buffer_size = {BUFFER_SIZE}",
        "store_rejects = true",
        f"rejects_table = {sql_str(rejects)}",
        f"rejects_scan = {sql_str(scans)}",
    ]
    return "read_csv(" + ", ".join(args) + ")"


def fetch_all(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    """Run ``sql`` to its end. (DuckDB 2's ``execute`` returns once the first rows are ready; a
    scan's rejects table exists only once the scan has finished, so always fetch everything.)"""
    return con.execute(sql).fetchall()


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    rows = fetch_all(con, sql)
    assert len(rows) == 1
    return rows[0]


def describe(error: duckdb.Error) -> str:
    """The first line of DuckDB's message, for a report users read: without the file's path on
    the server (DuckDB names it, quoted: 'Error when sniffing file "/tmp/..."')."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else "unreadable"
    return _QUOTED_PATH.sub("", first) or "unreadable"


_QUOTED_PATH = re.compile(r"""\s*(["'])(?:/|[A-Za-z]:[\\/])[^"'\n]*\1""")


def is_io_error(error: duckdb.Error) -> bool:
    return isinstance(error, duckdb.IOException | duckdb.PermissionException)


def run(source: Source, work: Callable[[duckdb.DuckDBPyConnection, Source], T]) -> T:
    """``work`` on a fresh connection; once more on an LF copy if DuckDB cannot parse the file.

    Raises ``OSError`` for I/O problems and the last ``duckdb.Error`` when both attempts fail (the
    callers then fall back to a Python pass or report the file as unreadable).
    """
    try:
        with connect() as con:
            return work(con, source)
    except duckdb.Error as error:
        if is_io_error(error):
            raise OSError(str(error)) from error
    with lf_copy(source) as copy, connect() as con:
        try:
            return work(con, copy)
        except duckdb.Error as error:
            if is_io_error(error):
                raise OSError(str(error)) from error
            raise
