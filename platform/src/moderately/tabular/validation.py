"""Checking a delimited file against a schema: a report, never an exception for bad data.

One DuckDB scan reads every field as VARCHAR, counts records and, per schema column, the values that
fail the column's type (``coltypes``) and the blanks of required columns; malformed records (ragged,
unterminated quotes, invalid UTF-8) go to DuckDB's rejects table during the same scan. Only when
something failed: a second scan materialises the failing columns to fetch the first offending rows,
and a bounded Python csv pass (``_source.locate``) turns positions into exact data-row and
physical-line numbers.

Numbering: ``row`` is the 1-based data record (the first record after the header is row 1; blank
lines are not records, a record spanning lines is one row); ``line`` is the 1-based physical line
of the original file where that record starts (so an editor jumps to it).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import duckdb

from . import _duck
from ._source import (
    HeaderTooLarge,
    Source,
    dedupe_names,
    locate,
    newline_counts,
    prepare,
    read_header,
)
from .coltypes import EXPECTED, accepts, blank, is_checked
from .counting import count_with, python_count
from .options import Column, ParsingOptions

IssueKind = Literal[
    "empty_file",
    "missing_column",
    "wrong_delimiter",
    "ragged_row",
    "malformed_csv",
    "encoding",
    "type_mismatch",
    "required_blank",
]
DELIMITER_CANDIDATES: Final = (",", ";", "\t", "|")
MAX_VALUE_CHARS: Final = 80
DEFAULT_MAX_ERRORS: Final = 100


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    kind: IssueKind
    message: str
    row: int | None = None  # 1-based data record
    line: int | None = None  # 1-based physical line of the original file
    column: str | None = None  # schema column name (or header name for structural problems)
    value: str | None = None  # the offending value or raw record, truncated

    def to_wire(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "row": self.row,
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }

    def describe(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Outcome of ``validate``. ``errors`` is capped; ``counts``/``column_counts`` are complete."""

    ok: bool
    record_count: int
    errors: tuple[ValidationIssue, ...]
    error_count: int
    counts: Mapping[str, int]
    column_counts: Mapping[str, Mapping[str, int]]
    warnings: tuple[str, ...] = ()
    columns_found: tuple[str, ...] = ()

    @property
    def truncated(self) -> bool:
        return self.error_count > len(self.errors)

    def summary(self) -> str:
        if self.ok:
            return f"ok: {self.record_count} records"
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items()))
        first = self.errors[0].describe() if self.errors else ""
        return f"{self.error_count} errors ({kinds}) in {self.record_count} records; first: {first}"

    def to_wire(self) -> dict[str, Any]:
        """A JSON-ready error report (camelCase, like the rest of the wire)."""
        return {
            "ok": self.ok,
            "recordCount": self.record_count,
            "errorCount": self.error_count,
            "truncated": self.truncated,
            "counts": dict(self.counts),
            "columnCounts": {k: dict(v) for k, v in self.column_counts.items()},
            "errors": [e.to_wire() for e in self.errors],
            "warnings": list(self.warnings),
            "columnsFound": list(self.columns_found),
            "summary": self.summary(),
        }


def truncate(value: str | None, limit: int = MAX_VALUE_CHARS) -> str | None:
    if value is None:
        return None
    value = value.rstrip("\r\n")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def describe_delimiter(delimiter: str) -> str:
    return {"\t": "'\\t' (tab)", " ": "' ' (space)"}.get(delimiter, repr(delimiter))


@dataclass
class _Collector:
    max_errors: int
    issues: list[ValidationIssue] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    column_counts: defaultdict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    warnings: list[str] = field(default_factory=list)

    def add(self, issue: ValidationIssue, count: int = 1) -> None:
        """Add one listed issue standing for ``count`` occurrences (counted, not listed)."""
        self.issues.append(issue)
        self.tally(issue.kind, issue.column, count)

    def tally(self, kind: str, column: str | None, count: int) -> None:
        if count <= 0:
            return
        self.counts[kind] += count
        if column is not None:
            self.column_counts[column][kind] += count

    def report(
        self, record_count: int, order: Mapping[str, int], found: list[str]
    ) -> ValidationReport:
        def key(issue: ValidationIssue) -> tuple[int, int, int, int]:
            if issue.row is None and issue.kind not in _RECORD_KINDS:
                return (0, 0, issue.line or 0, order.get(issue.column or "", -1))
            return (1, issue.row or 0, issue.line or 0, order.get(issue.column or "", -1))

        listed = sorted(self.issues, key=key)[: max(self.max_errors, 0)]
        total = sum(self.counts.values())
        return ValidationReport(
            ok=total == 0,
            record_count=record_count,
            errors=tuple(listed),
            error_count=total,
            counts=dict(self.counts),
            column_counts={k: dict(v) for k, v in self.column_counts.items()},
            warnings=tuple(self.warnings),
            columns_found=tuple(found),
        )


_RECORD_KINDS: Final = frozenset(
    {"ragged_row", "malformed_csv", "encoding", "type_mismatch", "required_blank"}
)


@dataclass(frozen=True, slots=True)
class _Check:
    column: Column
    index: int  # 0-based header column
    kind: IssueKind

    @property
    def raw(self) -> str:
        return _duck.column_name(self.index)

    def condition(self) -> str:
        if self.kind == "required_blank":
            return blank(self.raw)
        # NULL fails neither side; a whitespace-only value fails `accepts` but is blank.
        return f"(NOT {accepts(self.column.type, self.raw)} AND NOT {blank(self.raw)})"

    def message(self, value: str | None) -> str:
        if self.kind == "required_blank":
            return "required value is blank"
        shown = truncate((value or "").strip())
        return f"expected {EXPECTED[self.column.type]}, got {shown!r}"


def validate(
    path: str | Path,
    columns: Sequence[Column | Mapping[str, Any]],
    options: ParsingOptions | Mapping[str, Any] | None = None,
    *,
    max_errors: int = DEFAULT_MAX_ERRORS,
) -> ValidationReport:
    """Check ``path`` against ``columns`` read with ``options``; see the module doc.

    Raises ``ValueError`` for invalid columns/options (a caller error) and ``OSError`` for I/O
    problems; any problem with the *data* is in the report (a header row too wide or too long to
    read is one ``malformed_csv`` issue).
    """
    opts = ParsingOptions.from_wire(options)
    schema = [Column.from_wire(c) for c in columns]
    out = _Collector(max_errors)
    try:
        return _check_file(path, schema, opts, out)
    except HeaderTooLarge as exc:
        message = f"{exc}; check parsingOptions (delimiter, headerRow)"
        out.add(
            ValidationIssue(kind="malformed_csv", line=opts.header_line_index + 1, message=message)
        )
        return out.report(0, {}, [])


def _check_file(
    path: str | Path, schema: list[Column], opts: ParsingOptions, out: _Collector
) -> ValidationReport:
    with prepare(path, opts) as source:
        if source.decode_problem is not None:
            problem = source.decode_problem
            out.add(
                ValidationIssue(
                    kind="encoding",
                    line=problem.line,
                    message=(
                        f"bytes that are not valid {opts.encoding} (first at line {problem.line}; "
                        f"{problem.count} replaced); check parsingOptions.encoding"
                    ),
                ),
                problem.count,
            )
        if source.header is None:
            if schema:
                out.add(
                    ValidationIssue(
                        kind="empty_file",
                        line=source.header_line,
                        message=f"no header row: the file ends before line {source.header_line}",
                    )
                )
            return out.report(0, {}, [])
        names = source.names
        positions = resolve_all(schema, names)
        order = {c.name: i for i, c in reversed(list(enumerate(schema)))}
        wrong = _wrong_delimiter(source, schema, positions)
        if wrong is not None:
            out.add(wrong)
        else:
            for c, i in zip(schema, positions, strict=True):
                if i is None:
                    out.add(
                        ValidationIssue(
                            kind="missing_column",
                            column=c.name,
                            line=source.header_line,
                            message=f"column {c.header_name!r} is not in the header "
                            f"(found: {_list_names(names)})",
                        )
                    )
        if wrong is None:
            _warn_schema(out, schema, positions, names)
        checks: list[_Check] = []
        if wrong is None:
            for c, i in zip(schema, positions, strict=True):
                if i is None:
                    continue
                if is_checked(c.type):
                    checks.append(_Check(c, i, "type_mismatch"))
                if c.required:
                    checks.append(_Check(c, i, "required_blank"))
        try:
            # Under a wrong delimiter every record looks broken: report that once, count only.
            if wrong is not None:
                records = _duck.run(source, count_with)
            else:
                records = _duck.run(source, lambda con, src: _scan(con, src, checks, out))
        except duckdb.Error as error:
            first = _duck.describe(error)
            out.add(ValidationIssue(kind="malformed_csv", message=f"unreadable CSV: {first}"))
            records = python_count(source)
        if records == 0:
            out.warnings.append("the file has no data rows")
        return out.report(records, order, names)


def resolve(column: Column, names: Sequence[str]) -> int | None:
    """0-based header position of ``column`` (exact name first, then case/space-insensitive)."""
    return resolve_all([column], names)[0]


def resolve_all(columns: Sequence[Column], names: Sequence[str]) -> list[int | None]:
    """``resolve`` for each of ``columns``, in time linear in columns plus names (the first
    header position wins, exactly matched names before case-folded ones)."""
    exact: dict[str, int] = {}
    folded: dict[str, int] = {}
    for i, name in enumerate(names):
        exact.setdefault(name, i)
        folded.setdefault(name.casefold(), i)
    positions: list[int | None] = []
    for column in columns:
        wanted = column.header_name
        position = exact.get(wanted)
        if position is None:
            position = folded.get(wanted.strip().casefold())
        positions.append(position)
    return positions


def _list_names(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def _warn_schema(
    out: _Collector, schema: list[Column], positions: list[int | None], names: list[str]
) -> None:
    unknown = sorted({c.type for c in schema if not c.checked})
    if unknown:
        out.warnings.append(f"types not checked (unknown): {', '.join(unknown)}")
    if schema:
        used = {i for i in positions if i is not None}
        extra = [n for i, n in enumerate(names) if i not in used]
        if extra:
            out.warnings.append(f"columns in the data but not in the schema: {_list_names(extra)}")


def _wrong_delimiter(
    source: Source, schema: list[Column], positions: list[int | None]
) -> ValidationIssue | None:
    """A clear error when the header only makes sense split on another delimiter."""
    found_now = sum(1 for i in positions if i is not None)
    if not schema or found_now == len(schema):
        return None
    current = source.options.delimiter
    best: tuple[int, int, str] | None = None  # (schema columns found, fields, delimiter)
    for candidate in DELIMITER_CANDIDATES:
        if candidate == current:
            continue
        alt = dataclasses.replace(source.options, delimiter=candidate)
        try:
            header = read_header(source.path, alt, source.header_index)
        except HeaderTooLarge:
            continue  # split this way the header is wider than anything we read
        if not header or len(header) < 2:
            continue
        names = dedupe_names(header)
        found = sum(1 for i in resolve_all(schema, names) if i is not None)
        score = (found, len(names), candidate)
        if (found > found_now or (source.width == 1 and found_now == 0)) and (
            best is None or score[:2] > best[:2]
        ):
            best = score
    if best is None:
        return None
    found, fields, candidate = best
    shown = truncate(source.options.delimiter.join(source.header or []))
    return ValidationIssue(
        kind="wrong_delimiter",
        line=source.header_line,
        value=shown,
        message=(
            f"wrong delimiter: split on {describe_delimiter(current)} the header has "
            f"{source.width} column(s) and {found_now} of the {len(schema)} schema columns; split "
            f"on {describe_delimiter(candidate)} it has {fields} columns and {found} of them. "
            f"Set parsingOptions.delimiter to {candidate!r}"
        ),
    )


_EXPECTED_FOUND = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _scan(
    con: duckdb.DuckDBPyConnection, source: Source, checks: list[_Check], out: _Collector
) -> int:
    """Run the checks; add issues to ``out``; return the record count."""
    # Every column is referenced: DuckDB checks UTF-8 only in the columns a query reads, and the
    # second scan below must reject exactly the records this one rejects (ranks must line up).
    every = [_duck.column_name(i) for i in range(max(source.width, 1))]
    selects = ["count(*)"] + [f"count(*) FILTER (WHERE {c.condition()})" for c in checks]
    selects += [f"count({name})" for name in every]
    row = _duck.fetch_one(con, f"SELECT {', '.join(selects)} FROM {_duck.read_csv(source)}")
    accepted = int(row[0])
    failures = {i: int(n) for i, n in enumerate(row[1 : 1 + len(checks)]) if n}

    # One representative error per rejected record (a ragged row gives one error per missing
    # field). Details only for the records that will be listed; counts and positions for all.
    per_record = """
        SELECT line, min(line_byte_position) AS pos,
               arg_min(error_type, column_idx) AS error_type,
               arg_min(column_name, column_idx) AS column_name,
               arg_min(csv_line, column_idx) AS csv_line,
               arg_min(error_message, column_idx) AS error_message
        FROM reject_errors GROUP BY line
    """
    limit = max(out.max_errors, 0)
    listed_rejects = _duck.fetch_all(
        con, f"SELECT * FROM ({per_record}) ORDER BY line LIMIT {limit}"
    )
    by_type = _duck.fetch_all(
        con, f"SELECT error_type, count(*) FROM ({per_record}) GROUP BY error_type"
    )
    rejected_count = sum(int(n) for _, n in by_type)
    records = accepted + rejected_count

    fetched: dict[int, list[tuple[int, str | None]]] = {}
    if failures:
        needed = sorted({checks[i].raw for i in failures})
        touch = f"strlen(concat_ws('', {', '.join(every)})) AS touched"
        con.execute(
            f"CREATE TEMP TABLE failing AS SELECT {', '.join(needed)}, {touch} FROM "
            f"{_duck.read_csv(source, rejects='reject_errors_2', scans='reject_scans_2')}"
        )
        for i in failures:
            check = checks[i]
            fetched[i] = [
                (int(r[0]), r[1])
                for r in con.execute(
                    f"SELECT rowid, {check.raw} FROM failing WHERE {check.condition()} "
                    f"ORDER BY rowid LIMIT {max(out.max_errors, 0)}"
                ).fetchall()
            ]

    # Positions -> physical lines -> data rows (only for what will be listed). Ranks of accepted
    # rows shift past every rejected record before them, so value errors need all positions.
    if fetched and rejected_count > len(listed_rejects):
        positions = [
            int(r[0])
            for r in _duck.fetch_all(
                con, "SELECT min(line_byte_position) FROM reject_errors GROUP BY line"
            )
        ]
    else:
        positions = [int(r[1]) for r in listed_rejects]
    line_of = newline_counts(source.path, positions)
    rejected_lines = sorted(line_of.values())
    wanted_lines = {line_of[int(r[1])] for r in listed_rejects}
    wanted_ranks = {rank for rows in fetched.values() for rank, _ in rows}
    located = locate(source, rejected_lines, wanted_lines, wanted_ranks)

    for error_type, n in by_type:
        out.tally(_structural(str(error_type), "", None, source)[0], None, int(n))
    for r in listed_rejects:
        _line, pos, error_type, column_name, csv_line, message = r
        kind, text = _structural(str(error_type), message, column_name, source)
        physical = line_of[int(pos)]
        out.issues.append(
            ValidationIssue(
                kind=kind,
                row=located.by_line.get(physical),
                line=source.original_line(physical),
                column=None if kind == "ragged_row" else _header_name(column_name, source),
                value=truncate(csv_line),
                message=text,
            )
        )
    no_rejects = rejected_count == 0
    for i, n in failures.items():
        check = checks[i]
        out.tally(check.kind, check.column.name, n)
        for rank, value in fetched.get(i, []):
            row_line = located.by_rank.get(rank)
            out.issues.append(
                ValidationIssue(
                    kind=check.kind,
                    row=row_line[0] if row_line else (rank + 1 if no_rejects else None),
                    line=source.original_line(row_line[1]) if row_line else None,
                    column=check.column.name,
                    value=None if check.kind == "required_blank" else truncate(value),
                    message=check.message(value),
                )
            )
    return records


def _header_name(column_name: object, source: Source) -> str | None:
    if isinstance(column_name, str) and column_name.startswith("c") and column_name[1:].isdigit():
        i = int(column_name[1:]) - 1
        if 0 <= i < len(source.names):
            return source.names[i]
    return None


def _structural(
    error_type: str, message: object, column_name: object, source: Source
) -> tuple[IssueKind, str]:
    text = str(message or "")
    column = _header_name(column_name, source)
    if error_type in {"MISSING COLUMNS", "TOO MANY COLUMNS"}:
        match = _EXPECTED_FOUND.search(text)
        if match:
            expected, found = match.groups()
            return "ragged_row", f"ragged row: {found} fields, the header has {expected}"
        return "ragged_row", f"ragged row: {text}"
    if error_type == "UNQUOTED VALUE":
        where = f" in column {column!r}" if column else ""
        return "malformed_csv", (
            f"malformed CSV: a quoted field{where} is not closed properly (unterminated quote, or "
            "text after the closing quote); the rest of the file may not have been read"
        )
    if error_type in {"INVALID ENCODING", "INVALID UNICODE"}:
        where = f" in column {column!r}" if column else ""
        return "encoding", (
            f"bytes that are not valid UTF-8{where}: the file is not UTF-8; set "
            "parsingOptions.encoding (e.g. 'cp1252' or 'latin-1')"
        )
    if error_type == "LINE SIZE OVER MAXIMUM":
        return (
            "malformed_csv",
            f"malformed CSV: a record is longer than {_duck.MAX_LINE_SIZE} bytes",
        )
    return "malformed_csv", f"malformed CSV: {text or error_type.lower()}"
