"""Schema inference from the data (not the header), and sniffing of parsing options.

Types come from the values of a sample (the first ``sample_rows`` records; the whole file when it is
smaller), with the same predicates validation uses (``coltypes``), so an inferred schema validates
its sample. Per column, over its non-blank values, the first rule that holds wins:

1. no values at all -> ``string`` (nullable);
2. any value with a leading zero (``007``, ``01234``, ``-05``) -> ``string``: codes, zip codes and
   account numbers keep their zeros;
3. all integers (64-bit) -> ``integer`` (so a 0/1 column is an integer, not a boolean); all
   integer-shaped but some too large -> ``string`` (an id, not a number);
4. all numbers -> ``float``;
5. all booleans (``true/false``, ``yes/no``, ``t/f``, ``y/n``, any case; ``1/0`` too as long as some
   value is a word) -> ``boolean``;
6. all ISO dates ``YYYY-MM-DD`` -> ``date``;
7. all ISO datetimes (dates allowed in the mix) -> ``datetime``;
8. anything else -> ``string``.

``nullable`` is true where the sample has a blank value. Names are the header's (stripped; blank
names become ``column_<pos>``, repeats ``name_2``...), in header order.

Options given as a mapping may be partial: what it leaves out of ``delimiter`` and ``encoding`` is
sniffed (from its ``headerRow``/``skipRows``), what it gives is kept. Binary input (a known magic
number such as a ZIP/xlsx, PNG or PDF, or NUL bytes in text that is not UTF-16/32) raises
``NotDelimitedText`` (a ``ValueError``) instead of yielding junk columns; ``binary_kind`` tells.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import duckdb

from . import _duck
from ._source import Source, csv_kwargs, prepare, raise_field_limit
from .coltypes import BOOL_WORDS, INT_RE, LEADING_ZERO_RE, accepts, blank, full_match
from .coltypes import sql_str as _lit
from .options import Column, ParsingOptions

DEFAULT_SAMPLE_ROWS: Final = 100_000
SNIFF_BYTES: Final = 256 * 1024
SNIFF_RECORDS: Final = 200
SNIFF_DELIMITERS: Final = (",", "\t", ";", "|")


@dataclass(frozen=True, slots=True)
class InferredSchema:
    columns: list[Column]
    options: ParsingOptions
    rows_sampled: int
    sampled_all: bool  # the sample was the whole file


def infer_schema(
    path: str | Path,
    options: ParsingOptions | Mapping[str, Any] | None = None,
    *,
    sample_rows: int | None = DEFAULT_SAMPLE_ROWS,
) -> list[Column]:
    """Columns from the first ``sample_rows`` records (``None``: all); see the module doc."""
    return infer(path, options, sample_rows=sample_rows).columns


def infer(
    path: str | Path,
    options: ParsingOptions | Mapping[str, Any] | None = None,
    *,
    sample_rows: int | None = DEFAULT_SAMPLE_ROWS,
) -> InferredSchema:
    """Like ``infer_schema``, with the parsing options used (sniffed when ``options`` is None;
    a mapping's missing ``delimiter``/``encoding`` are sniffed)."""
    opts = _resolve_options(path, options)
    kind = binary_kind(path, encoding=opts.encoding)
    if kind is not None:
        raise NotDelimitedText(kind)
    if sample_rows is not None and sample_rows < 1:
        raise ValueError("sample_rows must be >= 1 or None")
    with prepare(path, opts) as source:
        if source.header is None:
            return InferredSchema([], opts, 0, True)
        try:
            rows, stats = _duck.run(source, lambda con, src: _stats(con, src, sample_rows))
        except duckdb.Error:
            # Unparseable even line-normalised: every column a nullable string.
            columns = [Column(name=n, pos=i + 1) for i, n in enumerate(source.names)]
            return InferredSchema(columns, opts, 0, False)
    columns = [
        Column(name=name, type=_decide(s), nullable=s["blank"] > 0 or rows == 0, pos=i + 1)
        for i, (name, s) in enumerate(zip(source.names, stats, strict=True))
    ]
    return InferredSchema(columns, opts, rows, sample_rows is None or rows < sample_rows)


class NotDelimitedText(ValueError):
    """The file is binary (a workbook, an image, ...), not delimited text."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(
            f"only delimited text (CSV/TSV) can be inferred; this file looks like {kind}"
        )


BINARY_SNIFF_BYTES: Final = 8 * 1024
# (magic prefix, what the file looks like); ZIP is told apart by the entries it names.
_MAGIC: Final = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 file (e.g. an old .xls workbook)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"RIFF", "a RIFF media file"),
)
_WIDE_BOMS: Final = (
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF32_BE,
)


def binary_kind(path: str | Path, *, encoding: str | None = None) -> str | None:
    """What a binary file looks like ("an Excel workbook (.xlsx)", "a PNG image", ...), or None
    for text. NUL bytes count as binary unless the text is UTF-16/32 (a BOM or ``encoding``)."""
    with Path(path).open("rb") as f:
        head = f.read(BINARY_SNIFF_BYTES)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if b"xl/" in head:
            return "an Excel workbook (.xlsx)"
        if b"word/" in head:
            return "a Word document (.docx)"
        if b"ppt/" in head:
            return "a PowerPoint presentation (.pptx)"
        return "a ZIP archive"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    wide = head.startswith(_WIDE_BOMS) or _is_wide(encoding)
    if b"\x00" in head and not wide:
        return "binary data (it contains NUL bytes)"
    return None


def _is_wide(encoding: str | None) -> bool:
    try:
        name = codecs.lookup(encoding).name if encoding else ""
    except LookupError:
        return False
    return name.startswith(("utf-16", "utf-32"))


def _resolve_options(
    path: str | Path, options: ParsingOptions | Mapping[str, Any] | None
) -> ParsingOptions:
    if options is None:
        return sniff_options(path)
    given = ParsingOptions.from_wire(options)
    if isinstance(options, ParsingOptions):
        return given
    has_delimiter = options.get("delimiter") is not None
    has_encoding = options.get("encoding") is not None
    if has_delimiter and has_encoding:
        return given
    skip = given.skip_rows if isinstance(given.skip_rows, int) else list(given.skip_rows)
    sniffed = sniff_options(
        path,
        header_row=given.header_row,
        skip_rows=skip,
        encoding=given.encoding if has_encoding else None,
    )
    return dataclasses.replace(
        given,
        delimiter=given.delimiter if has_delimiter else sniffed.delimiter,
        encoding=sniffed.encoding,
    )


# Per value, a bit mask of the types it satisfies (one CASE: the first matching branch wins, so
# most values run one or two patterns); per column, bit_and over values says what all satisfy.
_INT, _FLOAT, _BOOL, _DATE, _DATETIME, _INT_SHAPED, _WORD, _LEADING_ZERO = (
    1 << i for i in range(8)
)


def _mask(raw: str) -> str:
    zeros = f"regexp_matches({raw}, {_lit(LEADING_ZERO_RE)})"
    lead = f"(CASE WHEN {zeros} THEN {_LEADING_ZERO} ELSE 0 END)"
    fits = f"(CASE WHEN TRY_CAST({raw} AS BIGINT) IS NOT NULL THEN {_INT} ELSE 0 END)"
    zero_one = f"(CASE WHEN {full_match(raw, '0|1')} THEN {_BOOL} ELSE 0 END)"
    return (
        f"CASE WHEN {raw} IS NULL THEN NULL"
        f" WHEN {full_match(raw, INT_RE)}"
        f" THEN {_INT_SHAPED | _FLOAT} | {fits} | {zero_one} | {lead}"
        f" WHEN {accepts('float', raw)} THEN {_FLOAT} | {lead}"
        f" WHEN {full_match(raw, '|'.join(BOOL_WORDS), ignore_case=True)} THEN {_BOOL | _WORD}"
        f" WHEN {accepts('date', raw)} THEN {_DATE | _DATETIME}"
        f" WHEN {accepts('datetime', raw)} THEN {_DATETIME}"
        f" WHEN {blank(raw)} THEN NULL"
        " ELSE 0 END"
    )


# Up to this many columns one query computes every column's type mask side by side. DuckDB's
# cost to plan those expressions grows with their number (an 8,000-column header took 18 s and
# 2 GiB), so a wider sample is unpivoted instead: one mask expression over (column, value) pairs.
WIDE_COLUMNS = 256


def _stats(
    con: duckdb.DuckDBPyConnection, source: Source, sample_rows: int | None
) -> tuple[int, list[dict[str, int]]]:
    limit = f" LIMIT {int(sample_rows)}" if sample_rows is not None else ""
    sample = f"(SELECT * FROM {_duck.read_csv(source)}{limit})"
    if source.width > WIDE_COLUMNS:
        rows, stats = _wide_stats(con, sample, source.width)
    else:
        rows, stats = _narrow_stats(con, sample, source.width)
    for s in stats:
        s["blank"] = rows - s["values"]
    return rows, stats


def _narrow_stats(
    con: duckdb.DuckDBPyConnection, sample: str, width: int
) -> tuple[int, list[dict[str, int]]]:
    inner = ", ".join(f"{_mask(_duck.column_name(i))} AS m{i}" for i in range(width))
    outer = ["count(*)"]
    for i in range(width):
        outer += [f"count(m{i})", f"coalesce(bit_and(m{i}), 0)", f"coalesce(bit_or(m{i}), 0)"]
    row = _duck.fetch_one(con, f"SELECT {', '.join(outer)} FROM (SELECT {inner} FROM {sample})")
    return int(row[0]), [
        {"values": int(row[1 + 3 * i]), "all": int(row[2 + 3 * i]), "any": int(row[3 + 3 * i])}
        for i in range(width)
    ]


def _wide_stats(
    con: duckdb.DuckDBPyConnection, sample: str, width: int
) -> tuple[int, list[dict[str, int]]]:
    _duck.fetch_all(con, f"CREATE TEMP TABLE inference_sample AS {sample[1:-1]}")
    rows = int(_duck.fetch_one(con, "SELECT count(*) FROM inference_sample")[0])
    found = _duck.fetch_all(
        con,
        f"SELECT name, count(m), coalesce(bit_and(m), 0), coalesce(bit_or(m), 0) FROM ("
        f"SELECT name, {_mask('value')} AS m FROM ("
        "UNPIVOT inference_sample ON COLUMNS(*) INTO NAME name VALUE value)) GROUP BY name",
    )
    by_name = {str(name): (int(n), int(every), int(some)) for name, n, every, some in found}
    stats = []
    for i in range(width):
        n, every, some = by_name.get(_duck.column_name(i), (0, 0, 0))
        stats.append({"values": n, "all": every, "any": some})
    return rows, stats


def _decide(s: Mapping[str, int]) -> str:
    every, some = s["all"], s["any"]
    if s["values"] == 0 or some & _LEADING_ZERO:
        return "string"
    if every & _INT:
        return "integer"
    if every & _INT_SHAPED:
        return "string"  # integers too large for 64 bits: identifiers, not numbers
    if every & _FLOAT:
        return "float"
    if every & _BOOL and some & _WORD:
        return "boolean"
    if every & _DATE:
        return "date"
    if every & _DATETIME:
        return "datetime"
    return "string"


def sniff_options(
    path: str | Path,
    *,
    header_row: int = 1,
    skip_rows: int | list[int] = 0,
    encoding: str | None = None,
) -> ParsingOptions:
    """Parsing options guessed from the start of the file: encoding (unless given) and delimiter.

    Encoding: a BOM decides (UTF-8/16/32); else UTF-8 if the sample decodes, else cp1252, else
    latin-1. Delimiter: of ``,`` tab ``;`` ``|``, the one that splits the first records (from the
    header on) into the most consistent number of fields, more than one, and matching the header;
    ties go to that order; ``,`` when none splits.
    """
    base = ParsingOptions(
        header_row=header_row,
        skip_rows=tuple(skip_rows) if isinstance(skip_rows, list) else skip_rows,
    )
    with Path(path).open("rb") as f:
        sample = f.read(SNIFF_BYTES + 1)
    truncated = len(sample) > SNIFF_BYTES
    sample = sample[:SNIFF_BYTES]
    if encoding is None:
        encoding = _sniff_encoding(sample, truncated)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, not truncated)
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if truncated and len(lines) > 1:
        lines.pop()  # a partial line
    # (A count of leading lines is all above the header: no set of them is built.)
    skipped = () if isinstance(base.skip_rows, int) else frozenset(base.skip_rows)
    header = base.header_line_index
    body = "\n".join(line for i, line in enumerate(lines) if i >= header and i not in skipped)
    delimiter = _sniff_delimiter(body, base, truncated)
    return ParsingOptions(
        delimiter=delimiter, header_row=header_row, skip_rows=base.skip_rows, encoding=encoding
    )


def _sniff_encoding(sample: bytes, truncated: bool) -> str:
    if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            codecs.getincrementaldecoder(encoding)(errors="strict").decode(sample, not truncated)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


def _sniff_delimiter(body: str, base: ParsingOptions, truncated: bool) -> str:
    raise_field_limit()
    best: tuple[tuple[bool, bool, float, int, int], str] | None = None
    for priority, candidate in enumerate(SNIFF_DELIMITERS):
        reader = csv.reader(io.StringIO(body), **csv_kwargs(base, candidate))  # type: ignore[arg-type]
        try:
            records = [r for r in itertools.islice(reader, SNIFF_RECORDS + 1) if r]
        except csv.Error:
            continue
        if truncated and len(records) > 1:
            records.pop()  # may be cut short by the sample's end
        if not records:
            continue
        header, rows = records[0], records[1:]
        widths = Counter(len(r) for r in rows) if rows else Counter([len(header)])
        width, hits = widths.most_common(1)[0]
        share = hits / sum(widths.values())
        score = (width > 1, len(header) == width, round(share, 2), width, -priority)
        if best is None or score > best[0]:
            best = (score, candidate)
    if best is None or not best[0][0]:
        return ","
    return best[1]
