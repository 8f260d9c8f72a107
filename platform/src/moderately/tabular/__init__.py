"""The data engine behind datasets: counting, validating and inferring delimited files.

Plain synchronous functions over a local path (the server calls them in a worker thread); each call
uses its own in-memory DuckDB connection, so calls are independent and thread-safe.

* ``count_rows(path, options)``: data records, correct for quoted line breaks, BOM, CRLF, no final
  newline, empty and header-only files.
* ``validate(path, columns, options, max_errors=100)``: a ``ValidationReport`` (never raises for bad
  data).
* ``infer_schema(path, options=None, sample_rows=...)`` / ``infer(...)`` / ``sniff_options(path)``:
  columns (and parsing options) from the data; ``binary_kind(path)``: what a non-text file looks
  like (``infer`` raises ``NotDelimitedText`` on one).

Inputs are bounded (``options.MAX_*``): options beyond them raise ``ValueError``; a header row
wider than ``MAX_COLUMNS`` fields or longer than ``MAX_HEADER_CHARS`` characters is read no
further: ``count_rows`` and ``infer`` raise ``HeaderTooLarge`` (a ``ValueError``), ``validate``
reports it.
"""

from ._source import HeaderTooLarge
from .coltypes import BOOL_FALSE, BOOL_TRUE
from .counting import count_rows
from .inference import (
    DEFAULT_SAMPLE_ROWS,
    InferredSchema,
    NotDelimitedText,
    binary_kind,
    infer,
    infer_schema,
    sniff_options,
)
from .options import (
    KNOWN_TYPES,
    MAX_COLUMNS,
    MAX_HEADER_CHARS,
    MAX_HEADER_ROW,
    MAX_LINE_INDEX,
    MAX_SKIP_ROW_LINES,
    MAX_SKIP_ROWS,
    Column,
    ColumnType,
    ParsingOptions,
    columns_from_wire,
    normalize_type,
)
from .validation import IssueKind, ValidationIssue, ValidationReport, validate

__all__ = [
    "BOOL_FALSE",
    "BOOL_TRUE",
    "DEFAULT_SAMPLE_ROWS",
    "KNOWN_TYPES",
    "MAX_COLUMNS",
    "MAX_HEADER_CHARS",
    "MAX_HEADER_ROW",
    "MAX_LINE_INDEX",
    "MAX_SKIP_ROWS",
    "MAX_SKIP_ROW_LINES",
    "HeaderTooLarge",
    "NotDelimitedText",
    "Column",
    "ColumnType",
    "InferredSchema",
    "IssueKind",
    "ParsingOptions",
    "ValidationIssue",
    "ValidationReport",
    "binary_kind",
    "columns_from_wire",
    "count_rows",
    "infer",
    "infer_schema",
    "normalize_type",
    "sniff_options",
    "validate",
]
