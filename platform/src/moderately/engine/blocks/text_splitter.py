"""`text_splitter`: recursive character splitting into overlapping chunks.

Lengths are in code points. `split(text, seps)` cuts on the first separator of `seps` that occurs
(the empty separator means per character); pieces up to `chunk_size` are merged into chunks with
`chunk_overlap` characters of overlap, longer pieces are split again with the remaining
separators (or hard-sliced when none is left). Chunks are stripped, empty ones dropped.

Input `text`: a string, a list of strings, or a list of objects with `text` (e.g. the `pages` of
`pdf_reader`, whose `page_number` becomes each chunk's `page`). Outputs `chunks` (strings) and
`chunk_details` (`{"index", "text", "start", "end", "source_index", "page"?}`). `start`/`end` are
the chunk's offsets in its source, tracked through the splitting (so a repeated passage gets its
own position, which the spec's "first occurrence after the previous chunk's start" also gives
whenever that occurrence is the chunk itself).

The splitting is lazy (spans are generated, never a list of every piece), so memory follows the
output; the output is bounded by `max_value_bytes` (chunk_details, the larger output, measured as
chunks are made: overlapping chunks repeat text, so chunk_size 200 with overlap 199 would copy
the input 200 times), and the block yields to the event loop every `YIELD_EVERY` chunks.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..budgets import format_bytes, json_size
from ..context import BlockContext
from ..errors import BlockError
from ..ports import Port
from ..registry import BlockType, block
from ..values import describe

DEFAULT_SEPARATORS: Final = ("\n\n", "\n", " ", "")
YIELD_EVERY: Final = 256  # chunks made between two turns of the event loop


class TextSplitterConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    chunk_size: int = Field(default=1000, gt=0, le=10000, description="Max chunk length")
    chunk_overlap: int = Field(default=200, ge=0, description="Overlap between chunks")
    separators: list[str] | None = Field(
        default=None, description='Tried in order; default ["\\n\\n", "\\n", " ", ""]'
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Self:
        check_overlap(self.chunk_size, self.chunk_overlap)
        return self


def check_overlap(chunk_size: int, chunk_overlap: int) -> None:
    """A config's chunks must overlap by less than their size (clause_extraction's too)."""
    if chunk_overlap >= chunk_size:
        raise ValueError(
            f"chunk_overlap ({chunk_overlap}) must be smaller than chunk_size ({chunk_size})"
        )


Span = tuple[int, int]  # [start, end) in the source text


class Splitter:
    """The algorithm of 2.17 on spans of the source, so every chunk knows its exact offsets."""

    def __init__(self, chunk_size: int, chunk_overlap: int, separators: list[str]) -> None:
        self.size = chunk_size
        self.overlap = chunk_overlap
        self.separators = separators

    def split(self, text: str) -> list[str]:
        return [text[start:end] for start, end in self.spans(text)]

    def spans(self, text: str) -> list[Span]:
        """Chunk spans, stripped, empty chunks dropped."""
        return list(self.iter_spans(text))

    def iter_spans(self, text: str) -> Iterator[Span]:
        """`spans`, generated one chunk at a time."""
        for start, end in self._split(text, 0, len(text), self.separators):
            chunk = text[start:end]
            stripped = chunk.strip()
            if stripped:
                lead = len(chunk) - len(chunk.lstrip())
                yield (start + lead, start + lead + len(stripped))

    def _split(self, text: str, start: int, end: int, separators: list[str]) -> Iterator[Span]:
        separator = ""
        rest: list[str] = []
        found = False
        for position, candidate in enumerate(separators):
            if candidate == "" or text.find(candidate, start, end) >= 0:
                separator, rest, found = candidate, separators[position + 1 :], True
                break
        pieces = _pieces(text, start, end, separator) if found else iter([(start, end)])
        # runs of pieces that fit are merged; a longer piece is split again (or hard-sliced)
        for fits, run in itertools.groupby(
            pieces, key=lambda piece: piece[1] - piece[0] <= self.size
        ):
            if fits:
                yield from self._merge(run, len(separator))
                continue
            for piece in run:
                if rest:
                    yield from self._split(text, piece[0], piece[1], rest)
                else:
                    for at in range(piece[0], piece[1], self.size):
                        yield (at, min(at + self.size, piece[1]))

    def _merge(self, pieces: Iterable[Span], step: int) -> Iterator[Span]:
        """Pieces joined by their separator (a contiguous span of the source) into chunks."""
        window: deque[Span] = deque()
        total = 0  # length of the window's text, separators included
        for piece in pieces:
            size = piece[1] - piece[0]
            if window and total + step + size > self.size:
                yield (window[0][0], window[-1][1])
                while window and (total > self.overlap or total + step + size > self.size):
                    first = window.popleft()
                    total -= first[1] - first[0] + (step if window else 0)
            total += size + (step if window else 0)
            window.append(piece)
        if window:
            yield (window[0][0], window[-1][1])


def _pieces(text: str, start: int, end: int, separator: str) -> Iterator[Span]:
    """Spans of `text[start:end]` cut on `separator` (per character when it is empty)."""
    if not separator:
        yield from ((at, at + 1) for at in range(start, end))
        return
    at = start
    while True:
        found = text.find(separator, at, end)
        if found < 0:
            yield (at, end)
            return
        yield (at, found)
        at = found + len(separator)


def _sources(value: Any) -> list[tuple[str, Any]]:
    """`(text, page or None)` per source."""
    if isinstance(value, str):
        return [(value, None)]
    if isinstance(value, list):
        sources: list[tuple[str, Any]] = []
        for index, item in enumerate(value):
            if isinstance(item, str):
                sources.append((item, None))
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                sources.append((item["text"], item.get("page_number")))
            else:
                raise BlockError(
                    "invalid_input",
                    f"'text' item {index} must be a string or an object with 'text', "
                    f"got {describe(item)}",
                )
        return sources
    raise BlockError(
        "invalid_input",
        f"'text' must be a string or a list of strings/objects with 'text', got {describe(value)}",
    )


@block("text_splitter")
class TextSplitter(BlockType[TextSplitterConfig]):
    description = "Split text into overlapping chunks (recursive character splitting)."
    config_model = TextSplitterConfig
    inputs = (Port("text", required=True, primary=True),)
    outputs = (Port("chunks", primary=True, kind="array"), Port("chunk_details", kind="array"))

    async def run(
        self, ctx: BlockContext, config: TextSplitterConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        separators = (
            list(config.separators) if config.separators is not None else list(DEFAULT_SEPARATORS)
        )
        splitter = Splitter(config.chunk_size, config.chunk_overlap, separators)
        budgets = ctx.budgets
        limit = budgets.max_value_bytes
        details_bytes = 2  # estimated compact JSON size of chunk_details so far
        chunks: list[str] = []
        details: list[dict[str, Any]] = []
        for source_index, (text, page) in enumerate(_sources(inputs.get("text"))):
            for start, end in splitter.iter_spans(text):
                detail: dict[str, Any] = {
                    "index": len(chunks),
                    "text": text[start:end],
                    "start": start,
                    "end": end,
                    "source_index": source_index,
                }
                if page is not None:
                    detail["page"] = page
                details_bytes += json_size(detail) + 1
                if details_bytes > limit:
                    raise budgets.exceeded(
                        "max_value_bytes",
                        f"chunk_details is at least {format_bytes(details_bytes)} after "
                        f"{len(details) + 1:,} chunks",
                    )
                chunks.append(detail["text"])
                details.append(detail)
                if len(details) % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
        return {"chunks": chunks, "chunk_details": details}
