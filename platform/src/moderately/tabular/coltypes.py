"""What each column type accepts, as SQL over trimmed VARCHAR values (DuckDB dialect).

Validation and inference share these predicates, so a schema inferred from a file always validates
that file's sample. Every predicate applies to a value that is not blank; blank means empty or only
whitespace after the reader's NULL handling (an empty field, quoted or not). Nothing else (``NA``,
``null``, ``-``) counts as blank.

Accepted spellings (leading and trailing spaces/tabs are ignored everywhere):

* ``integer``: optional sign and ASCII digits, fitting a signed 64-bit integer (``007`` is the
  integer 7 when a schema says so). No thousands separators, no ``1.0``, no ``1e3``.
* ``float``: decimal or scientific notation (``1``, ``-1.5``, ``.5``, ``2.``, ``6.02e23``) and
  ``nan``/``inf``/``infinity`` with an optional sign, any case. No thousands separators, no decimal
  comma.
* ``boolean``: ``true/false``, ``t/f``, ``yes/no``, ``y/n``, ``1/0``, any case.
* ``date``: ISO 8601 calendar date ``YYYY-MM-DD`` that exists (no ``2024-02-30``).
* ``datetime``: ISO 8601 ``YYYY-MM-DD``, optionally followed by ``T`` or a space and
  ``HH:MM[:SS[.fraction]]`` (fraction up to 9 digits) and an optional ``Z`` or ``+HH[:MM]``/
  ``-HH[:MM]`` offset. A date alone is a valid datetime (the 0.2.7 SDK sends ``datetime`` for
  ``date``).
* ``time``: ``HH:MM[:SS[.fraction]]``.
* ``string`` and any type we do not know: anything.
"""

from __future__ import annotations

from typing import Final

from .options import KNOWN_TYPES

_WS: Final = r"[ \t\r\n]*"  # values are checked as read: surrounding whitespace is allowed
INT_RE: Final = r"[+-]?[0-9]+"
FLOAT_RE: Final = r"[+-]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|nan|inf|infinity)"
DATE_RE: Final = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
TIME_RE: Final = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
OFFSET_RE: Final = r"(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)"
DATETIME_RE: Final = rf"{DATE_RE}([T ]{TIME_RE}{OFFSET_RE}?)?"
LEADING_ZERO_RE: Final = rf"^{_WS}[+-]?0[0-9]"

BOOL_TRUE: Final = ("true", "t", "yes", "y", "1")
BOOL_FALSE: Final = ("false", "f", "no", "n", "0")
# Inference calls a column boolean only when some value is a word (a 0/1 column is an integer).
BOOL_WORDS: Final = ("true", "false", "t", "f", "yes", "no", "y", "n")

EXPECTED: Final[dict[str, str]] = {
    "integer": "an integer (e.g. 42, -7)",
    "float": "a number (e.g. 3.14, -2, 1e-3)",
    "boolean": "a boolean (true/false, yes/no, t/f, y/n, 1/0)",
    "date": "an ISO 8601 date (YYYY-MM-DD)",
    "datetime": "an ISO 8601 datetime (YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM])",
    "time": "a time (HH:MM[:SS[.fff]])",
}


def sql_str(text: str) -> str:
    """A DuckDB string literal (standard SQL: only ``'`` is special)."""
    return "'" + text.replace("'", "''") + "'"


def full_match(raw: str, pattern: str, *, ignore_case: bool = False) -> str:
    """``raw`` (surrounding whitespace allowed) matches ``pattern`` entirely."""
    flags = "(?i)" if ignore_case else ""
    return f"regexp_full_match({raw}, {sql_str(f'{flags}{_WS}(?:{pattern}){_WS}')})"


_BLANK: Final = sql_str(r"[ \t\r\n]+")
_STRIP: Final = sql_str(" \t\r\n")


def blank(raw: str) -> str:
    """NULL (an empty field, quoted or not) or only whitespace."""
    return f"({raw} IS NULL OR regexp_full_match({raw}, {_BLANK}))"


def accepts(type_: str, raw: str) -> str:
    """SQL that is true when the non-blank ``raw`` value is a valid ``type_``.

    The pattern decides the spelling; the cast (which tolerates the surrounding whitespace the
    pattern allows) decides range and calendar validity. Cheap checks come first.
    """
    if type_ == "integer":
        return f"({full_match(raw, INT_RE)} AND TRY_CAST({raw} AS BIGINT) IS NOT NULL)"
    if type_ == "float":
        return (
            f"({full_match(raw, FLOAT_RE, ignore_case=True)}"
            f" AND TRY_CAST({raw} AS DOUBLE) IS NOT NULL)"
        )
    if type_ == "boolean":
        return full_match(raw, "|".join(BOOL_TRUE + BOOL_FALSE), ignore_case=True)
    if type_ == "date":
        return f"({full_match(raw, DATE_RE)} AND TRY_CAST({raw} AS DATE) IS NOT NULL)"
    if type_ == "datetime":
        # DuckDB's TIMESTAMP cast accepts the offsets the pattern allows.
        return f"({full_match(raw, DATETIME_RE)} AND TRY_CAST({raw} AS TIMESTAMP) IS NOT NULL)"
    if type_ == "time":
        stripped = f"trim({raw}, {_STRIP})"
        return f"({full_match(raw, TIME_RE)} AND TRY_CAST({stripped} AS TIME) IS NOT NULL)"
    return "TRUE"


def is_checked(type_: str) -> bool:
    return type_ in KNOWN_TYPES and type_ != "string"
