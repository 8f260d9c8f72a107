"""Dataset decisions that need no I/O, shared by both clients (api.md 6.4-6.7, 7.3 B7-B11).

The file type of an upload, the wire form of schema columns and parsing options, the query of the
version listings, and what a dataset's ``processingStatus`` means for someone waiting on it.
"""

import datetime
from pathlib import PurePath
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ._base_client import camel
from ._exceptions import ProcessingError
from ._files import _looks_like_text

__all__ = [
    "CONTENT_TYPES",
    "DEFAULT_DATA_NAME",
    "check_processing",
    "data_file_type",
    "poll_delay",
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
# how to read it (api.md 6.4; TSV and others through ``delimiter``).
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


# --- schema columns (api.md 6.6, B9-B11) -----------------------------------------------------

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


# --- processing (api.md 6.7) -----------------------------------------------------------------


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
    second), doubling up to ``poll_interval``."""
    return max(0.0, min(poll_interval, 0.1 * 2.0**attempt))
