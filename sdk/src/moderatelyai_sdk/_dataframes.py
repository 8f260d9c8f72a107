"""Data versions as DataFrames: pandas or polars, imported only when asked for (neither is a
dependency of the SDK).

The file is read the way the server reads it: with the schema's parsing options (delimiter,
header row, skipped lines, encoding, quoting), only blank fields as missing values (``NA`` or
``null`` stay text), every column first as text and then converted by its schema type:
``integer`` to a nullable 64-bit integer, ``float``, ``boolean`` (``true/false``, ``yes/no``,
``t/f``, ``y/n``, ``1/0``, any case), ``date``/``datetime`` (ISO 8601); ``string``, ``time`` and
unknown types stay text, so codes keep their leading zeros. Columns with a ``source`` are renamed
to their schema name. Without a schema, every column stays text.
"""

import importlib
import io
from typing import Any, Dict, List, Optional, Tuple

from .types.dataset import DatasetSchemaVersion, ParsingOptions

__all__ = ["read_pandas", "read_polars", "require"]

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_BOOLEANS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}


def require(module: str, method: str) -> Any:
    """The module, or an ``ImportError`` saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{method}() needs {module}, which the SDK does not install: pip install {module}"
        ) from exc


def _options(schema: Optional[DatasetSchemaVersion]) -> ParsingOptions:
    if schema is not None and schema.parsing_options is not None:
        return schema.parsing_options
    return ParsingOptions()


def _conversions(schema: Optional[DatasetSchemaVersion]) -> Tuple[Dict[str, str], Dict[str, str]]:
    """(header name -> schema type, header name -> schema name) of the schema's columns."""
    types: Dict[str, str] = {}
    names: Dict[str, str] = {}
    for column in schema.columns if schema is not None else []:
        header = column.source or column.name
        types[header] = column.type
        if header != column.name:
            names[header] = column.name
    return types, names


def _encoding(options: ParsingOptions) -> str:
    encoding = (options.encoding or "utf-8").lower()
    # A UTF-8 BOM is not data: the server skips it, and so does utf-8-sig.
    return "utf-8-sig" if encoding.replace("_", "-") in ("utf-8", "utf8") else encoding


def read_pandas(
    path: str, schema: Optional[DatasetSchemaVersion], overrides: Dict[str, Any]
) -> Any:
    """A ``pandas.DataFrame`` of the delimited file at ``path``; ``overrides`` go to
    ``pandas.read_csv`` last."""
    pandas = require("pandas", "to_pandas")
    options = _options(schema)
    types, names = _conversions(schema)
    skip = options.skip_rows
    arguments: Dict[str, Any] = {
        "sep": options.delimiter or ",",
        "header": (options.header_row or 1) - 1,
        "skiprows": skip if skip else None,
        "encoding": _encoding(options),
        "dtype": str,
        "keep_default_na": False,
        "na_values": [""],
        "skip_blank_lines": True,
    }
    if options.quote == "":
        arguments["quoting"] = 3  # csv.QUOTE_NONE
    elif options.quote:
        arguments["quotechar"] = options.quote
    if options.escape:
        arguments["escapechar"] = options.escape
    arguments.update(overrides)
    frame = pandas.read_csv(path, **arguments)
    if "dtype" in overrides:
        return frame.rename(columns=names)
    for header, column_type in types.items():
        if header not in frame.columns:
            continue
        values = frame[header]
        if column_type == "integer":
            frame[header] = pandas.to_numeric(values.str.strip()).astype("Int64")
        elif column_type == "float":
            frame[header] = pandas.to_numeric(values.str.strip()).astype("float64")
        elif column_type == "boolean":
            frame[header] = values.str.strip().str.lower().map(_BOOLEANS).astype("boolean")
        elif column_type in ("date", "datetime"):
            frame[header] = _pandas_datetimes(pandas, values.str.strip())
    return frame.rename(columns=names)


def _pandas_datetimes(pandas: Any, values: Any) -> Any:
    try:
        return pandas.to_datetime(values, format="ISO8601")
    except ValueError:  # mixed UTC offsets: all in UTC (values without one taken as UTC)
        return pandas.to_datetime(values, format="ISO8601", utc=True)


# ISO 8601 as the server accepts it: a date, optionally a time after "T" or a space, optionally an
# offset (``Z`` and ``+HH`` are rewritten to ``+HH:MM`` first).
_POLARS_FORMATS = [
    f"%Y-%m-%d{sep}{time}{zone}"
    for zone in ("%z", "")
    for sep in ("T", " ")
    for time in ("%H:%M:%S%.f", "%H:%M:%S", "%H:%M")
] + ["%Y-%m-%d"]


def _polars_datetimes(polars: Any, text: Any) -> Any:
    """Every ISO 8601 spelling in one column, in UTC (values without an offset taken as UTC)."""
    text = text.str.replace(r"Z$", "+00:00").str.replace(r"([+-][0-9]{2})$", "${1}:00")
    parsed = []
    for fmt in _POLARS_FORMATS:
        value = text.str.to_datetime(fmt, strict=False, time_unit="us")
        if fmt.endswith("%z"):
            value = value.dt.convert_time_zone("UTC")
        else:
            value = value.dt.replace_time_zone("UTC")
        parsed.append(value)
    return polars.coalesce(parsed)


def _skip_lines(options: ParsingOptions) -> Tuple[int, List[int]]:
    """Lines before the header as a count for polars (which cannot drop lines in between)."""
    skip = options.skip_rows
    if isinstance(skip, list):
        return 0, sorted(skip)
    return (skip or 0) + (options.header_row or 1) - 1, []


def read_polars(
    path: str, schema: Optional[DatasetSchemaVersion], overrides: Dict[str, Any]
) -> Any:
    """A ``polars.DataFrame`` of the delimited file at ``path``; ``overrides`` go to
    ``polars.read_csv`` last."""
    polars = require("polars", "to_polars")
    options = _options(schema)
    types, names = _conversions(schema)
    skip, listed = _skip_lines(options)
    if listed:
        raise ValueError(
            "to_polars() cannot drop the listed lines of skip_rows; use to_pandas(), or read "
            "download_data() yourself"
        )
    source: Any = path
    if _encoding(options) != "utf-8-sig":  # polars reads UTF-8 only
        with open(path, "rb") as f:
            source = io.BytesIO(f.read().decode(_encoding(options)).encode("utf-8"))
    arguments: Dict[str, Any] = {
        "separator": options.delimiter or ",",
        "has_header": True,
        "skip_rows": skip,
        "infer_schema_length": 0,  # every column as text, converted below
        "quote_char": None if options.quote == "" else (options.quote or '"'),
    }
    arguments.update(overrides)
    frame = polars.read_csv(source, **arguments)
    if "schema_overrides" in overrides or "infer_schema_length" in overrides:
        return frame.rename({k: v for k, v in names.items() if k in frame.columns})
    casts = []
    for header, column_type in types.items():
        if header not in frame.columns:
            continue
        text = polars.col(header).str.strip_chars()
        if column_type == "integer":
            casts.append(text.cast(polars.Int64))
        elif column_type == "float":
            casts.append(text.cast(polars.Float64))
        elif column_type == "boolean":
            lowered = text.str.to_lowercase()
            casts.append(
                polars.when(lowered.is_in(list(_TRUE)))
                .then(True)
                .when(lowered.is_in(list(_FALSE)))
                .then(False)
                .otherwise(None)
                .alias(header)
            )
        elif column_type == "date":
            casts.append(text.str.to_date("%Y-%m-%d"))
        elif column_type == "datetime":
            casts.append(_polars_datetimes(polars, text).alias(header))
    if casts:
        frame = frame.with_columns(casts)
    return frame.rename({k: v for k, v in names.items() if k in frame.columns})
