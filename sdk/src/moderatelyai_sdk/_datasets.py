"""Dataset decisions that need no I/O, shared by both clients.

The file type of an upload, the wire form of schema columns and parsing options, a schema inferred
from a sample on the client (for servers without schema inference), and what a dataset's
``processingStatus`` means for someone waiting on it. The wire forms are those of
``docs/reference/api.md`` (``ColumnSpec``, ``ParsingOptionsIn``, ``DataVersionCreate``).
"""

import codecs
import csv
import datetime
import re
from pathlib import PurePath
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ._base_client import camel
from ._exceptions import ProcessingError
from ._files import _looks_like_text

__all__ = [
    "CONTENT_TYPES",
    "DEFAULT_DATA_NAME",
    "SAMPLE_BYTES",
    "SAMPLE_UPLOAD_BYTES",
    "check_processing",
    "data_file_type",
    "infer_sample_schema",
    "poll_delay",
    "sample_head",
    "wire_column",
    "wire_columns",
    "wire_parsing_options",
    "wire_type",
]

DEFAULT_DATA_NAME = "uploaded_data"
#: What a data version's bytes are PUT as (the store does not bind it; it is served back so).
CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Delimited text is "csv" on the wire whatever its delimiter: the schema's parsing options say
# how to read it (TSV and others through ``delimiter``).
_SUFFIX_TYPES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".psv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xls": "xlsx",
}
_TYPE_ALIASES = {"tsv": "csv", "txt": "csv", "text": "csv", "xls": "xlsx"}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

IN_PROGRESS, COMPLETED, FAILED, NEEDS_PROCESSING = (
    "in_progress",
    "completed",
    "failed",
    "needs-processing",
)


def data_file_type(file_type: Optional[str], name: str, head: bytes) -> str:
    """The wire ``fileType`` of an upload: ``file_type`` if given (``tsv``/``txt`` are ``csv``,
    ``xls`` is ``xlsx``), else from the name's extension, else from the first bytes (a ZIP
    container is ``xlsx``, text is ``csv``).

    Raises:
        ValueError: If none of them tells (before any request is made).
    """
    if file_type:
        lowered = file_type.strip().lower().lstrip(".")
        return _TYPE_ALIASES.get(lowered, lowered)
    suffix = PurePath(name).suffix.lower()
    if suffix in _SUFFIX_TYPES:
        return _SUFFIX_TYPES[suffix]
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head and _looks_like_text(head):
        return "csv"
    raise ValueError(
        f"Cannot tell the type of {name!r} from its name or content: pass file_type='csv' "
        "(delimited text) or file_type='xlsx'"
    )


# --- schema columns ----------------------------------------------------------------------------

# The 0.2.7 mapping: Python-ish names to the wire vocabulary; other names pass through.
_TYPE_NAMES = {
    "str": "string",
    "int": "integer",
    "float": "float",
    "datetime": "datetime",
    "bool": "boolean",
    "date": "datetime",
}
_PYTHON_TYPES: Dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "float",
    bool: "boolean",
    datetime.datetime: "datetime",
    datetime.date: "datetime",
}
# Keys the conversion decides; every other key of a column passes through (camelCased).
_DECIDED = frozenset({"name", "type", "required", "nullable", "pos"})


def wire_type(column_type: Any) -> str:
    """A column type on the wire: ``int`` -> ``integer``, ``str`` -> ``string``, ``bool`` ->
    ``boolean``, ``date``/``datetime`` -> ``datetime`` (names or the Python types themselves);
    any other name is sent unchanged (``string``, ``float``, ``time``, ...)."""
    if isinstance(column_type, type):
        if column_type in _PYTHON_TYPES:
            return _PYTHON_TYPES[column_type]
        raise ValueError(f"No column type for the Python type {column_type.__name__}")
    if not isinstance(column_type, str):
        raise ValueError(f"A column type is a string, not {type(column_type).__name__}")
    return _TYPE_NAMES.get(column_type, column_type)


def _as_mapping(value: Any) -> Mapping[str, Any]:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):  # a column (or options) object read from the API
        result: Mapping[str, Any] = to_dict()
        return result
    if isinstance(value, Mapping):
        return value
    raise ValueError(f"Expected a dict, got {type(value).__name__}")


def wire_column(column: Any, pos: int) -> Dict[str, Any]:
    """One column as the wire wants it: ``{pos, name, type, nullable, ...}``.

    ``required`` (default ``True``) becomes ``nullable = not required``; an explicit
    ``nullable`` wins. A ``pos`` given is kept, else ``pos`` is the 1-based index. Other keys
    (``description``, ``operations``, ``source``, ``transform_expr``...) pass through with
    camelCase keys; ``None`` values are dropped.

    Raises:
        ValueError: If the column has no ``name`` or no ``type``.
    """
    data = _as_mapping(column)
    name, column_type = data.get("name"), data.get("type")
    if name is None or column_type is None:
        raise ValueError(f"Column {pos} needs a 'name' and a 'type': {dict(data)!r}")
    nullable = data.get("nullable")
    if nullable is None:
        nullable = not data.get("required", True)
    wire: Dict[str, Any] = {
        "pos": data.get("pos") or pos,
        "name": name,
        "type": wire_type(column_type),
        "nullable": bool(nullable),
    }
    for key, value in data.items():
        if key not in _DECIDED and value is not None:
            wire.setdefault(camel(key), value)
    return wire


def wire_columns(columns: Sequence[Any]) -> List[Dict[str, Any]]:
    """Every column in wire form (see ``wire_column``); raises ``ValueError`` on an empty list."""
    if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence):
        raise ValueError("columns must be a list of column dicts")
    if not columns:
        raise ValueError("A schema needs at least one column")
    return [wire_column(column, index) for index, column in enumerate(columns, start=1)]


def wire_parsing_options(options: Any) -> Optional[Dict[str, Any]]:
    """Parsing options with camelCase keys (``header_row`` -> ``headerRow``), ``None`` values
    dropped; ``None`` stays ``None``."""
    if options is None:
        return None
    return {camel(key): value for key, value in _as_mapping(options).items() if value is not None}


# --- a schema inferred from a sample, on the client ----------------------------------------------

#: Bytes of a sample read for a schema inferred on the client: the header and the first records.
SAMPLE_BYTES = 1024 * 1024
_SNIFF_DELIMITERS = (",", "\t", ";", "|")
_SNIFF_LINES = 20
_DELIMITER_ALIASES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r|$)")
# The spellings the server accepts for each type (platform/src/moderately/tabular/coltypes.py).
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(
    r"[+-]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|nan|inf|infinity)", re.IGNORECASE
)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?)?"
)
_LEADING_ZERO = re.compile(r"[+-]?0[0-9]")
_BOOL_WORDS = frozenset({"true", "false", "t", "f", "yes", "no", "y", "n"})
_BOOL_DIGITS = frozenset({"1", "0"})
_INT64 = 2**63


#: Bytes of a larger sample uploaded for the server's inference: its head, cut after a line end.
#: The server sniffs the delimiter and encoding from a file's first 256 KiB and types the columns
#: from its first records (platform/src/moderately/tabular/inference.py).
SAMPLE_UPLOAD_BYTES = 1024 * 1024
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def sample_head(head: bytes, options: Mapping[str, Any], sample_size: int) -> Optional[bytes]:
    """``head`` (the first bytes of a larger sample) cut after its last line end, when it has
    lines enough for the lines above the header, the header, the skipped lines and
    ``sample_size`` records; else ``None`` (the whole sample is needed). Text in UTF-16 or
    UTF-32 (a BOM, NUL bytes or that ``encoding`` in the wire-form ``options``) is never cut:
    a line end there is not one byte.

    Records may span lines, so the lines are no proof of the records: the caller checks that
    the server sampled ``sample_size`` of them."""
    if head.startswith(_WIDE_BOMS) or b"\x00" in head or _is_wide(options.get("encoding")):
        return None
    skip_rows = options.get("skipRows") or 0
    if isinstance(skip_rows, (list, tuple)):
        above = len(skip_rows)
    elif isinstance(skip_rows, int) and not isinstance(skip_rows, bool):
        above = skip_rows
    else:
        return None
    header_row = options.get("headerRow") or 1
    if not isinstance(header_row, int) or isinstance(header_row, bool):
        return None
    end = head.rfind(b"\n") + 1
    if head.count(b"\n", 0, end) < above + header_row + sample_size:
        return None
    return head[:end]


def _is_wide(encoding: Any) -> bool:
    if not isinstance(encoding, str):
        return False
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return True  # the server refuses it; the whole sample gets that answer
    return name.startswith(("utf-16", "utf-32"))


def infer_sample_schema(
    head: bytes,
    *,
    complete: bool,
    header_row: int = 1,
    sample_size: int = 100,
    parsing_options: Any = None,
) -> Dict[str, Any]:
    """Columns and parsing options of a delimited-text sample, inferred here (what a server
    without ``POST /dataset-schema-versions/infer`` needs; as 0.2.7 did, the names come from the
    header line).

    ``head`` is the start of the sample (``complete``: all of it). The given parsing options are
    kept; a missing delimiter is sniffed (``,``, tab, ``;``, ``|``) and a missing encoding is
    UTF-8 (else Latin-1). Types come from the values of the first ``sample_size`` records, by
    the server's own rules: a value with a leading zero makes a ``string`` (codes keep their
    zeros), then ``integer`` (64-bit), ``float``, ``boolean`` (some value a word: ``yes``,
    ``true``, ...), ``date`` (``YYYY-MM-DD``), ``datetime`` (ISO 8601), else ``string``;
    ``nullable`` where the sample has a blank. A sample without records gives nullable strings.

    Returns:
        ``{"columns": [...], "parsingOptions": {...}}`` in wire form; ``columns`` is empty when
        the sample has no header line.
    """
    options = wire_parsing_options(parsing_options) or {}
    if header_row != 1:
        options["headerRow"] = header_row
    header_line = options.get("headerRow") or 1
    text, encoding = _decode(head, options.get("encoding"), complete)
    options["encoding"] = encoding
    lines = _LINE.findall(text)
    if lines and not lines[-1]:
        lines.pop()  # the empty match at the end
    if not complete and lines:
        lines.pop()  # the last line may be cut short
    lines = _skipped(lines, options.get("skipRows"))[header_line - 1 :]
    given = options.get("delimiter")
    delimiter = _DELIMITER_ALIASES.get(str(given).lower(), given) if given else _sniff(lines)
    options["delimiter"] = delimiter
    options["headerRow"] = header_line
    records = _records(lines, delimiter, sample_size + 1)
    if not records:
        return {"columns": [], "parsingOptions": options}
    names = _names(records[0])
    rows = records[1:]
    if not complete and len(rows) > sample_size:
        rows = rows[:sample_size]
    elif not complete and rows:
        rows.pop()  # a quoted value may run past the end of the head
    columns = []
    for index, name in enumerate(names):
        values = [row[index].strip() if index < len(row) else "" for row in rows]
        present = [value for value in values if value]
        columns.append(
            {
                "pos": index + 1,
                "name": name,
                "type": _column_type(present),
                "nullable": not rows or len(present) < len(values),
            }
        )
    return {"columns": columns, "parsingOptions": options}


def _decode(head: bytes, encoding: Optional[str], complete: bool) -> Tuple[str, str]:
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    for name in (encoding,) if encoding else ("utf-8", "latin-1"):
        try:
            decoder = codecs.getincrementaldecoder(name)()
        except LookupError:
            raise ValueError(f"Unknown encoding {name!r}") from None
        try:
            return decoder.decode(head, final=complete), name
        except UnicodeDecodeError:
            if encoding:
                raise ValueError(f"The sample is not {encoding} text") from None
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _skipped(lines: List[str], skip_rows: Any) -> List[str]:
    if isinstance(skip_rows, int) and not isinstance(skip_rows, bool):
        return lines[skip_rows:]
    if isinstance(skip_rows, (list, tuple)):
        dropped = {index for index in skip_rows if isinstance(index, int)}
        return [line for index, line in enumerate(lines) if index not in dropped]
    return lines


def _records(lines: List[str], delimiter: str, limit: int) -> List[List[str]]:
    records: List[List[str]] = []
    for record in csv.reader(lines, delimiter=delimiter, strict=False):
        if any(field.strip() for field in record):  # blank lines are no records
            records.append(record)
            if len(records) >= limit:
                break
    return records


def _sniff(lines: List[str]) -> str:
    """The candidate delimiter that splits the first lines into the most equal rows of more
    than one field (the header's count); ``,`` when none does."""
    head = lines[:_SNIFF_LINES]
    best, best_score = ",", (0, 0)
    for candidate in _SNIFF_DELIMITERS:
        counts = [len(record) for record in csv.reader(head, delimiter=candidate) if record]
        if not counts or counts[0] < 2:
            continue
        score = (sum(count == counts[0] for count in counts), counts[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


def _names(header: List[str]) -> List[str]:
    """The header's names, stripped; blank ones are ``column_<pos>``, repeats ``name_2``, ..."""
    names: List[str] = []
    seen = set()
    for pos, raw in enumerate(header, start=1):
        base = raw.strip() or f"column_{pos}"
        name, suffix = base, 2
        while name in seen:
            name, suffix = f"{base}_{suffix}", suffix + 1
        seen.add(name)
        names.append(name)
    return names


def _column_type(values: List[str]) -> str:
    """The first type every non-blank value of a column has (see ``infer_sample_schema``)."""
    if not values or any(_LEADING_ZERO.match(value) for value in values):
        return "string"
    if all(_INT.fullmatch(value) for value in values):
        return "integer" if all(-_INT64 <= int(value) < _INT64 for value in values) else "string"
    if all(_FLOAT.fullmatch(value) for value in values):
        return "float"
    lowered = {value.lower() for value in values}
    if lowered <= _BOOL_WORDS | _BOOL_DIGITS and lowered & _BOOL_WORDS:
        return "boolean"
    if all(_valid_date(_DATE.fullmatch(value)) for value in values):
        return "date"
    if all(_valid_date(_DATETIME.fullmatch(value)) for value in values):
        return "datetime"
    return "string"


def _valid_date(match: Optional["re.Match[str]"]) -> bool:
    if match is None:
        return False
    try:
        datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return False
    return True


# --- processing ------------------------------------------------------------------------------


def check_processing(
    dataset_id: str, status: Optional[str], error: Optional[str], report: Any
) -> bool:
    """For someone waiting on processing: ``True`` once completed, ``False`` while it runs.

    Raises:
        ProcessingError: When it failed (with the server's reason and report), or when nothing
            is running nor will run (never requested, or the data or schema changed since).
    """
    if status == COMPLETED:
        return True
    if status == IN_PROGRESS:
        return False
    report = report if isinstance(report, dict) else None
    if status == FAILED:
        message = f"Processing of dataset {dataset_id} failed: {error or 'no reason given'}"
    else:
        message = (
            f"Dataset {dataset_id} is not being processed (processingStatus {status!r}): "
            "request it with process() or update(should_process=True)"
        )
    raise ProcessingError(message, dataset_id=dataset_id, status=status, report=report)


def poll_delay(attempt: int, poll_interval: float) -> float:
    """Seconds before poll ``attempt + 1``: quick at first (processing often takes well under a
    second), growing by half up to ``poll_interval``. (Doubling would see a run that just ended
    up to its whole length late; growing by half, at most half of it.)"""
    return max(0.0, min(poll_interval, 0.1 * 1.5**attempt))
