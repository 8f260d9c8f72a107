"""Helpers for the JSON values that flow through ports.

* `copy_value`: a deep copy for JSON values (much faster than `copy.deepcopy`).
* `get_path` / `set_path`: the dot path syntax (`results.standard_clauses.0.clause_number`).
* `file_id_of` / `dataset_ref_of`: the accepted forms of file and dataset references.
* `to_text`, `compact_json`, `parse_bool`: conversions shared by templates, transform and join.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Final

from .errors import BlockError

MISSING: Final = object()  # "no value at this path" (distinct from a JSON null)

_BOOL_TRUE: Final = frozenset({"true", "yes", "y", "1", "t"})
_BOOL_FALSE: Final = frozenset({"false", "no", "n", "0", "f"})


def copy_value(value: Any) -> Any:
    """Deep copy of a JSON value; strings, numbers, booleans and null are shared."""
    kind = type(value)
    if kind is dict:
        return {key: copy_value(item) for key, item in value.items()}
    if kind is list:
        return [copy_value(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)


def split_path(path: str) -> list[str]:
    return path.split(".") if path else []


def get_path(value: Any, path: str | list[str]) -> Any:
    """The value at `path`, or `MISSING`. Digit segments index arrays; keys are strings."""
    segments = split_path(path) if isinstance(path, str) else path
    current = value
    for segment in segments:
        if isinstance(current, dict):
            if segment not in current:
                return MISSING
            current = current[segment]
        elif isinstance(current, list) and segment.isdigit():
            index = int(segment)
            if index >= len(current):
                return MISSING
            current = current[index]
        else:
            return MISSING
    return current


def set_path(value: Any, path: str, new: Any) -> Any:
    """A copy of `value` with `new` written at `path`; missing objects are created on the way."""
    segments = split_path(path)
    if not segments:
        return copy_value(new)
    root = copy_value(value) if isinstance(value, dict | list) else {}
    current: Any = root
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if isinstance(current, list):
            if not segment.isdigit() or int(segment) >= len(current):
                raise ValueError(f"path '{path}': no array element '{segment}'")
            index = int(segment)
            if last:
                current[index] = copy_value(new)
            else:
                if not isinstance(current[index], dict | list):
                    current[index] = {}
                current = current[index]
        elif isinstance(current, dict):
            if last:
                current[segment] = copy_value(new)
            else:
                if not isinstance(current.get(segment), dict | list):
                    current[segment] = {}
                current = current[segment]
    return root


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def to_text(value: Any) -> str:
    """Strings as they are; every other value as compact JSON (templates, `join_text`)."""
    return value if isinstance(value, str) else compact_json(value)


def parse_bool(value: Any) -> bool | None:
    """`true/yes/y/1/t` and `false/no/n/0/f` (case-insensitive), booleans; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        text = str(int(value)) if float(value).is_integer() else str(value)
    elif isinstance(value, str):
        text = value.strip().lower()
    else:
        return None
    if text in _BOOL_TRUE:
        return True
    if text in _BOOL_FALSE:
        return False
    return None


def file_id_of(value: Any, *, port: str = "file_id") -> str:
    """A file id from an id string or a file-ref object (`file_id` or `fileId`)."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict):
        for key in ("file_id", "fileId"):
            candidate = value.get(key)
            if isinstance(candidate, str) and candidate:
                return candidate
    raise BlockError(
        "invalid_input",
        f"'{port}' must be a file id or a file reference object, got {describe(value)}",
    )


def dataset_ref_of(value: Any, *, port: str) -> str | list[dict[str, Any]]:
    """A dataset id (from a string or an object with `dataset_id`/`datasetId`), or rows as is."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict):
        for key in ("dataset_id", "datasetId"):
            candidate = value.get(key)
            if isinstance(candidate, str) and candidate:
                return candidate
    if isinstance(value, list) and all(isinstance(row, dict) for row in value):
        return value
    raise BlockError(
        "invalid_input",
        f"'{port}' must be a dataset id, a dataset reference or rows, got {describe(value)}",
    )


def describe(value: Any) -> str:
    """A short description of a value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
