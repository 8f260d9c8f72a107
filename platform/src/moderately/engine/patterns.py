"""Regular expressions supplied by users, run by RE2 (the `google-re2` package).

Every pattern that comes from a pipeline configuration (the `transform` block's `regex` filter,
JSON Schema `pattern`, `patternProperties` and `format: regex`) goes through this module. RE2
matches in time linear in the text, whatever the pattern, so `(a+)+$` cannot stall the server;
the price is its syntax: no backreferences and no lookaround (such patterns are refused when the
configuration is validated, with the reason). Memory is bounded per pattern (`max_mem`), by the
length of a pattern and by the size of the compile cache.
"""

from __future__ import annotations

import functools
from typing import Any, Final

import re2

MAX_PATTERN_LENGTH: Final = 1_000  # characters
PATTERN_MAX_MEMORY: Final = 4 << 20  # bytes RE2 may use for one compiled pattern
PATTERN_CACHE_SIZE: Final = 128  # compiled patterns (and refusals) kept


class PatternError(ValueError):
    """A pattern that is refused; the message names it and says why."""


def _options() -> Any:
    options = re2.Options()
    options.max_mem = PATTERN_MAX_MEMORY
    options.log_errors = False  # a refused pattern is reported to the user, not to stderr
    options.never_capture = True  # only "does it match" is ever asked
    return options


_OPTIONS: Final = _options()


def _reason(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    return str(detail)


@functools.lru_cache(maxsize=PATTERN_CACHE_SIZE)
def _compiled(pattern: str) -> Any:
    """The compiled pattern, or the `PatternError` explaining why not (refusals are cached)."""
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except UnicodeEncodeError:
        shown = pattern.encode("utf-8", "backslashreplace").decode()
        return PatternError(f"regular expression '{shown}' is not valid text (lone surrogate)")
    except re2.error as exc:
        return PatternError(
            f"regular expression '{pattern}' is not supported: {_reason(exc)} (patterns use "
            "RE2 syntax, which has no backreferences or lookaround)"
        )


def compile_pattern(pattern: Any) -> Any:
    """The RE2 object of `pattern` (its `search(text)` is truthy on a match); raises
    `PatternError` for a pattern that is not a string, too long, or not RE2 syntax."""
    if not isinstance(pattern, str):
        raise PatternError(f"a regular expression must be a string, got {type(pattern).__name__}")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(
            f"regular expression '{pattern[:40]}...' is too long: {len(pattern)} characters "
            f"(at most {MAX_PATTERN_LENGTH})"
        )
    compiled = _compiled(pattern)
    if isinstance(compiled, PatternError):
        raise PatternError(str(compiled))
    return compiled


def pattern_problem(pattern: Any) -> str | None:
    """Why `pattern` is refused, or None when it can be used."""
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        return str(exc)
    return None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches anywhere in `text` (JSON Schema and `re.search` semantics)."""
    compiled = compile_pattern(pattern)
    try:
        return compiled.search(text) is not None
    except UnicodeEncodeError:  # a lone surrogate (valid JSON, not UTF-8): matched as "?"
        return compiled.search(text.encode("utf-8", "replace")) is not None
