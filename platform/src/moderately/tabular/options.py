"""Parsing options and column specs in the wire vocabulary of schema versions (spec 4.9, B9-B11).

Both are plain frozen dataclasses. ``from_wire`` accepts what the API accepts (camelCase and the
snake_case spellings of B11, ``columnsJson`` items with ``nullable`` or ``required``, the SDK's type
aliases of B10); ``to_wire`` gives the camelCase form the API returns. Invalid *options* are a
caller error and raise ``ValueError`` (the API answers 4xx); invalid *data* never raises.
"""

from __future__ import annotations

import codecs
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

ColumnType = Literal["string", "integer", "float", "boolean", "datetime", "date", "time"]
KNOWN_TYPES: Final[frozenset[str]] = frozenset(
    {"string", "integer", "float", "boolean", "datetime", "date", "time"}
)

# The SDK maps int->integer, str->string, bool->boolean (B10); the rest are common spellings from
# other tools. `date` stays `date` here: a client that sends `date` gets a date check (the 0.2.7 SDK
# sends `datetime` for it, and a datetime column accepts date-only values, so both work).
TYPE_ALIASES: Final[Mapping[str, str]] = {
    "str": "string",
    "text": "string",
    "varchar": "string",
    "int": "integer",
    "int32": "integer",
    "int64": "integer",
    "bigint": "integer",
    "long": "integer",
    "double": "float",
    "float64": "float",
    "number": "float",
    "numeric": "float",
    "decimal": "float",
    "real": "float",
    "bool": "boolean",
    "timestamp": "datetime",
    "timestamptz": "datetime",
}

# Upper bounds of what the engine reads, far above any real file's needs: line-based options are
# walked line by line, and the header is read and named in one piece. The API's request models
# document the same numbers (schemas/datasets.py), so an over-limit value is a 400 naming it.
MAX_HEADER_ROW: Final = 1_000
MAX_SKIP_ROWS: Final = 1_000_000  # skipRows as a count of leading lines
MAX_SKIP_ROW_LINES: Final = 10_000  # entries of skipRows as a list of line indices
MAX_LINE_INDEX: Final = 2**31 - 1  # one such (0-based) line index
MAX_COLUMNS: Final = 10_000  # fields of a header row, columns of a schema
MAX_HEADER_CHARS: Final = 4 * 1024 * 1024  # characters of a header record

DELIMITER_ALIASES: Final[Mapping[str, str]] = {
    "\\t": "\t",
    "tab": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
}


def normalize_type(value: str) -> str:
    """The canonical type for ``value``: aliases mapped, known names lower-cased, others kept.

    The wire type is a free string (B10): an unknown type is kept (stripped) and later reported as
    "not checked", never rejected.
    """
    text = value.strip()
    if not text:
        raise ValueError("column type must be a non-empty string")
    lowered = text.lower()
    lowered = TYPE_ALIASES.get(lowered, lowered)
    return lowered if lowered in KNOWN_TYPES else text


def _normalize_encoding(value: str) -> str:
    try:
        name = codecs.lookup(value.strip()).name
    except LookupError:
        raise ValueError(f"unknown encoding {value!r}") from None
    # The BOM is skipped by the reader either way.
    return "utf-8" if name in {"utf-8", "utf-8-sig"} else name


def _single_char(value: str | None, what: str) -> str | None:
    if value is None or value == "":
        return None
    if len(value) != 1:
        raise ValueError(f"{what} must be a single character, got {value!r}")
    if value in "\r\n":
        raise ValueError(f"{what} cannot be a line break")
    return value


@dataclass(frozen=True, slots=True)
class ParsingOptions:
    """How to read a delimited text file.

    Line-based options count *physical* lines of the file (as pandas' ``skiprows``):

    * ``skip_rows``: an int N drops the first N lines; a list drops those lines (0-based indices,
      anywhere in the file, e.g. a units line under the header).
    * ``header_row``: 1-based; the header is the ``header_row``-th line left after ``skip_rows``;
      lines above it are dropped. Data starts on the record after the header.
    * ``delimiter``: one character (``"\\t"``, ``"tab"``, ``"comma"``, ... are accepted).
    * ``encoding``: any Python codec name; a UTF-8 BOM is always skipped.
    * ``quote`` (``None`` or ``""``: no quoting) and ``escape`` (``None``: a quote inside a quoted
      field is doubled, RFC 4180) are extensions of ours; the wire spec has only the first four.
    """

    delimiter: str = ","
    header_row: int = 1
    skip_rows: int | tuple[int, ...] = 0
    encoding: str = "utf-8"
    quote: str | None = '"'
    escape: str | None = None

    def __post_init__(self) -> None:
        delimiter = DELIMITER_ALIASES.get(self.delimiter.lower(), self.delimiter)
        checked = _single_char(delimiter, "delimiter")
        if checked is None:
            raise ValueError("delimiter must not be empty")
        object.__setattr__(self, "delimiter", checked)
        quote = _single_char(self.quote, "quote")
        escape = _single_char(self.escape, "escape")
        if quote is not None and quote == checked:
            raise ValueError("quote and delimiter must differ")
        if escape is not None and quote is None:
            raise ValueError("escape needs a quote character")
        object.__setattr__(self, "quote", quote)
        object.__setattr__(self, "escape", None if escape == quote else escape)
        if isinstance(self.header_row, bool) or not isinstance(self.header_row, int):
            raise ValueError("header_row must be an integer >= 1")
        if self.header_row < 1:
            raise ValueError("header_row must be >= 1")
        if self.header_row > MAX_HEADER_ROW:
            raise ValueError(f"header_row must be <= {MAX_HEADER_ROW}")
        object.__setattr__(self, "skip_rows", _normalize_skip_rows(self.skip_rows))
        object.__setattr__(self, "encoding", _normalize_encoding(self.encoding))

    @property
    def header_line_index(self) -> int:
        """0-based index of the header's first physical line."""
        if isinstance(self.skip_rows, int):
            return self.skip_rows + self.header_row - 1
        skipped = set(self.skip_rows)
        seen = 0
        index = 0
        while True:
            if index not in skipped:
                seen += 1
                if seen == self.header_row:
                    return index
            index += 1

    @property
    def skipped_data_lines(self) -> tuple[int, ...]:
        """0-based indices of lines to drop *below* the header (list form of ``skip_rows`` only)."""
        if isinstance(self.skip_rows, int):
            return ()
        header = self.header_line_index
        return tuple(i for i in self.skip_rows if i > header)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any] | ParsingOptions | None) -> ParsingOptions:
        """Options from a ``parsingOptions`` object (camelCase or snake_case keys).

        ``null`` values mean "not set" (the default); ``"quote": ""`` turns quoting off.
        """
        if data is None:
            return cls()
        if isinstance(data, ParsingOptions):
            return data
        kwargs: dict[str, Any] = {}
        for wire, name in (
            ("delimiter", "delimiter"),
            ("headerRow", "header_row"),
            ("header_row", "header_row"),
            ("skipRows", "skip_rows"),
            ("skip_rows", "skip_rows"),
            ("encoding", "encoding"),
            ("quote", "quote"),
            ("quoteChar", "quote"),
            ("quote_char", "quote"),
            ("escape", "escape"),
            ("escapeChar", "escape"),
            ("escape_char", "escape"),
        ):
            if wire in data and data[wire] is not None:
                kwargs[name] = data[wire]
        if "skip_rows" in kwargs and isinstance(kwargs["skip_rows"], list):
            kwargs["skip_rows"] = tuple(kwargs["skip_rows"])
        for key in ("delimiter", "encoding"):
            if key in kwargs and not isinstance(kwargs[key], str):
                raise ValueError(f"{key} must be a string")
        return cls(**kwargs)

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "delimiter": self.delimiter,
            "headerRow": self.header_row,
            "skipRows": self.skip_rows if isinstance(self.skip_rows, int) else list(self.skip_rows),
            "encoding": self.encoding,
        }
        if self.quote != '"':
            out["quote"] = self.quote or ""  # "" (not null, which means "unset") for no quoting
        if self.escape is not None:
            out["escape"] = self.escape
        return out


def _normalize_skip_rows(value: object) -> int | tuple[int, ...]:
    if isinstance(value, bool):
        raise ValueError("skip_rows must be an integer or a list of integers")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("skip_rows must be >= 0")
        if value > MAX_SKIP_ROWS:
            raise ValueError(f"skip_rows must be <= {MAX_SKIP_ROWS}")
        return value
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        items = list(itertools.islice(value, MAX_SKIP_ROW_LINES + 1))
        if len(items) > MAX_SKIP_ROW_LINES:
            raise ValueError(f"skip_rows lists at most {MAX_SKIP_ROW_LINES} lines")
        if any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in items):
            raise ValueError("skip_rows items must be integers >= 0")
        if any(i > MAX_LINE_INDEX for i in items):
            raise ValueError(f"skip_rows items must be <= {MAX_LINE_INDEX}")
        return tuple(sorted(set(items)))
    raise ValueError("skip_rows must be an integer or a list of integers")


@dataclass(frozen=True, slots=True)
class Column:
    """One schema column. ``source`` names the header column to read (default: ``name``)."""

    name: str
    type: str = "string"
    nullable: bool = True
    source: str | None = None
    pos: int | None = None
    description: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("column name must be a non-empty string")
        if not isinstance(self.type, str):
            raise ValueError("column type must be a string")
        object.__setattr__(self, "type", normalize_type(self.type))
        if self.source is not None and not self.source.strip():
            object.__setattr__(self, "source", None)

    @property
    def required(self) -> bool:
        return not self.nullable

    @property
    def header_name(self) -> str:
        """The header name this column is read from."""
        return self.source if self.source is not None else self.name

    @property
    def checked(self) -> bool:
        """Whether values of this type are checked (unknown types are passed through)."""
        return self.type in KNOWN_TYPES

    @classmethod
    def from_wire(cls, data: Mapping[str, Any] | Column) -> Column:
        """A column from a ``columns``/``columnsJson`` item (B9: ``nullable`` defaults to true;
        ``required`` is accepted as its negation when ``nullable`` is absent)."""
        if isinstance(data, Column):
            return data
        if "name" not in data or "type" not in data:
            raise ValueError("a column needs 'name' and 'type'")
        if "nullable" in data and data["nullable"] is not None:
            nullable = bool(data["nullable"])
        elif "required" in data and data["required"] is not None:
            nullable = not bool(data["required"])
        else:
            nullable = True
        known = {"name", "type", "nullable", "required", "source", "pos", "description"}
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            nullable=nullable,
            source=data.get("source"),
            pos=data.get("pos"),
            description=data.get("description"),
            extra={k: v for k, v in data.items() if k not in known},
        )

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "nullable": self.nullable}
        if self.pos is not None:
            out["pos"] = self.pos
        if self.source is not None:
            out["source"] = self.source
        if self.description is not None:
            out["description"] = self.description
        out.update({k: v for k, v in self.extra.items() if k not in out})
        return out


def columns_from_wire(items: Iterable[Mapping[str, Any] | Column]) -> list[Column]:
    return [Column.from_wire(item) for item in items]
