"""Per-job resource budgets the engine enforces while it runs a pipeline.

    budgets = Budgets(max_value_bytes=16 * MiB)        # or Budgets.from_settings(settings)
    result = await run_pipeline(plan, pipeline_input, ctx, budgets=budgets)

A pipeline configuration is user input: a chain of templates can double a value at every step, a
small PDF can inflate to gigabytes, a map can fan out over millions of items. Each budget bounds
one of these, and the engine (or the block concerned) stops the run as soon as one is passed,
with `error_type` `resource_limit` and a message naming the budget and the setting the operator
changes to raise it, e.g.

    rendered text is at least 8.0 MiB, over the template output budget of 8.0 MiB
    (MODERATELY_JOB_TEMPLATE_MAX_OUTPUT_BYTES)

Sizes of values are measured as compact JSON in UTF-8 by `json_size`, a walk that stops as soon
as the running total passes the limit (so measuring a huge value costs no more than the limit).
It is an estimate: string escapes are not counted and very large integers are approximated.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from .errors import BlockError

KiB: Final = 1024
MiB: Final = 1024 * KiB
GiB: Final = 1024 * MiB

RESOURCE_LIMIT: Final = "resource_limit"
SETTING_PREFIX: Final = "MODERATELY_JOB_"


@dataclass(frozen=True, slots=True)
class Budgets:
    """Limits of one job. Byte sizes are compact UTF-8 JSON (estimated, see `json_size`)."""

    max_value_bytes: int = 64 * MiB  # any single value passed between blocks
    max_output_bytes: int = 256 * MiB  # the pipeline's final output (all outputs together)
    map_max_items: int = 100_000  # elements of a map's input array
    map_max_concurrency: int = 16  # cap on a map's configured max_concurrency
    template_max_output_bytes: int = 8 * MiB  # string_template / json_template / format output
    pdf_max_pages: int = 2_000  # pages of a PDF read by pdf_reader
    pdf_max_text_bytes: int = 64 * MiB  # text extracted from one PDF (UTF-8)
    pdf_max_inflated_bytes: int = 256 * MiB  # decompressed stream bytes of one PDF
    pdf_max_page_objects: int = 200_000  # characters, paths and images laid out on one page
    join_max_rows: int = 1_000_000  # rows of a join (every intermediate result too)
    embedding_max_texts: int = 100_000  # texts one embeddings / semantic_filter block embeds

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Budgets.{item.name} must be a positive integer, got {value!r}")

    @classmethod
    def from_settings(cls, settings: Any, prefix: str = "job_") -> Budgets:
        """Budgets from an object (or mapping) with `job_<field>` attributes (keys); a missing
        one keeps its default."""
        values: dict[str, Any] = {}
        for item in fields(cls):
            key = prefix + item.name
            if isinstance(settings, Mapping):
                if key in settings:
                    values[item.name] = settings[key]
            elif hasattr(settings, key):
                values[item.name] = getattr(settings, key)
        return cls(**values)

    def exceeded(self, budget: str, what: str) -> ResourceLimitError:
        """The error for `what` (e.g. "rendered text is at least 9.0 MiB") over `budget`."""
        return over_budget(budget, getattr(self, budget), what)


# The setting an operator changes for each budget, and how messages call it.
SETTINGS: Final[Mapping[str, str]] = {
    item.name: SETTING_PREFIX + item.name.upper() for item in fields(Budgets)
}
LABELS: Final[Mapping[str, str]] = {
    "max_value_bytes": "value size budget",
    "max_output_bytes": "pipeline output budget",
    "map_max_items": "map item budget",
    "map_max_concurrency": "map concurrency budget",
    "template_max_output_bytes": "template output budget",
    "pdf_max_pages": "PDF page budget",
    "pdf_max_text_bytes": "PDF text budget",
    "pdf_max_inflated_bytes": "PDF decompression budget",
    "pdf_max_page_objects": "PDF page object budget",
    "join_max_rows": "join row budget",
    "embedding_max_texts": "embedding text budget",
}
DEFAULT_BUDGETS: Final = Budgets()


class ResourceLimitError(BlockError):
    """A budget was passed (`error_type` `resource_limit`). `budget` is the `Budgets` field,
    `setting` the operator's setting for it, `limit` its value in this run."""

    def __init__(self, budget: str, limit: int, message: str) -> None:
        super().__init__(RESOURCE_LIMIT, message)
        self.budget = budget
        self.setting = SETTINGS[budget]
        self.limit = limit

    def within(self, prefix: str) -> ResourceLimitError:
        """The same error with `prefix: ` before its message (e.g. the map item it came from)."""
        return ResourceLimitError(self.budget, self.limit, f"{prefix}: {self.message}")


def is_byte_budget(budget: str) -> bool:
    return budget.endswith("_bytes")


def format_bytes(size: int) -> str:
    """`512 B`, `12.5 KiB`, `8.0 MiB`, `1.5 GiB`."""
    if size < KiB:
        return f"{size} B"
    if size < MiB:
        return f"{size / KiB:.1f} KiB"
    if size < GiB:
        return f"{size / MiB:.1f} MiB"
    return f"{size / GiB:.1f} GiB"


def format_amount(budget: str, amount: int) -> str:
    """An amount in the unit of `budget`: bytes for size budgets, a count otherwise."""
    return format_bytes(amount) if is_byte_budget(budget) else f"{amount:,}"


def over_budget(budget: str, limit: int, what: str) -> ResourceLimitError:
    """`<what>, over the <label> of <limit> (<SETTING>)` as a `ResourceLimitError`."""
    message = (
        f"{what}, over the {LABELS[budget]} of {format_amount(budget, limit)} ({SETTINGS[budget]})"
    )
    return ResourceLimitError(budget, limit, message)


# -- measuring --------------------------------------------------------------------------------

_ENCODE_SLICE: Final = 1 << 20  # long non-ASCII strings are measured a slice at a time


def text_bytes(text: str) -> int:
    """UTF-8 length of `text`, without encoding a long string in one piece."""
    if text.isascii():
        return len(text)
    if len(text) <= _ENCODE_SLICE:
        return len(text.encode("utf-8", "surrogatepass"))
    return sum(
        len(text[start : start + _ENCODE_SLICE].encode("utf-8", "surrogatepass"))
        for start in range(0, len(text), _ENCODE_SLICE)
    )


def _int_size(number: int) -> int:
    if -(10**15) < number < 10**15:
        return len(str(number))
    return int(number.bit_length() * 0.30103) + 2  # digits (estimated) and a sign


def json_size(value: Any, limit: int | None = None) -> int:
    """Estimated length of `value` as compact UTF-8 JSON.

    Walks dicts, lists (and tuples), strings, bytes and numbers without building the JSON; once
    the running total passes `limit` it stops and returns that total (> `limit`), so the cost
    is bounded by the limit, not by the value. Shared sub-values count once per reference, as
    they would in the JSON text (and a cyclic value ends at the limit).
    """
    stop = sys.maxsize if limit is None else limit
    total = 0
    stack = [value]
    pop = stack.pop
    push = stack.append
    extend = stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            total += (len(item) if item.isascii() else text_bytes(item)) + 2
        elif kind is dict:
            count = len(item)
            if count:
                # braces, quotes, colons and commas; key lengths in characters (an estimate for
                # non-ASCII keys), measured in C
                try:
                    total += 1 + 4 * count + sum(map(len, item))
                except TypeError:  # a key that is not a string
                    total += 1 + 4 * count + sum(len(str(key)) for key in item)
                if total > stop:
                    return total
                extend(item.values())
            else:
                total += 2
        elif kind is list or kind is tuple:
            count = len(item)
            total += 2 + count - (1 if count else 0)
            if count and type(item[0]) is float:
                # A vector (embeddings): measured in C. A list that only starts with a float
                # raises TypeError at its first non-float and is walked like any other.
                try:
                    total += sum(map(len, map(float.__repr__, item)))
                except TypeError:
                    extend(item)
            else:
                extend(item)
        elif kind is int:
            total += _int_size(item)
        elif kind is float:
            total += len(repr(item))
        elif item is None or item is True:
            total += 4
        elif item is False:
            total += 5
        elif kind is bytes or kind is bytearray:
            total += len(item) + 2
        elif isinstance(item, Mapping):
            push(dict(item))
        elif isinstance(item, list | tuple):
            push(list(item))
        elif isinstance(item, str):
            push(str(item))
        else:
            total += len(str(item))
        if total > stop:
            return total
    return total
