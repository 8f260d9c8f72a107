"""`text_splitter` (pipelines.md 2.17): recursive character splitting into overlapping chunks.

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
"""

from __future__ import annotations

from collections import deque
from typing import Any, Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..context import BlockContext
from ..errors import BlockError
from ..ports import Port
from ..registry import BlockType, block
from ..values import describe

DEFAULT_SEPARATORS: Final = ("\n\n", "\n", " ", "")


class TextSplitterConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    chunk_size: int = Field(default=1000, gt=0, le=10000, description="Max chunk length")
    chunk_overlap: int = Field(default=200, ge=0, description="Overlap between chunks")
    separators: list[str] | None = Field(
        default=None, description='Tried in order; default ["\\n\\n", "\\n", " ", ""]'
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Self:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size "
                f"({self.chunk_size})"
            )
        return self


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
        result: list[Span] = []
        for start, end in self._split(text, 0, len(text), self.separators):
            chunk = text[start:end]
            stripped = chunk.strip()
            if stripped:
                lead = len(chunk) - len(chunk.lstrip())
                result.append((start + lead, start + lead + len(stripped)))
        return result

    def _split(self, text: str, start: int, end: int, separators: list[str]) -> list[Span]:
        separator = ""
        rest: list[str] = []
        found = False
        for position, candidate in enumerate(separators):
            if candidate == "" or text.find(candidate, start, end) >= 0:
                separator, rest, found = candidate, separators[position + 1 :], True
                break
        pieces = _pieces(text, start, end, separator) if found else [(start, end)]
        chunks: list[Span] = []
        good: list[Span] = []
        for piece in pieces:
            if piece[1] - piece[0] <= self.size:
                good.append(piece)
                continue
            if good:
                chunks.extend(self._merge(good, len(separator)))
                good = []
            if rest:
                chunks.extend(self._split(text, piece[0], piece[1], rest))
            else:
                chunks.extend(
                    (at, min(at + self.size, piece[1]))
                    for at in range(piece[0], piece[1], self.size)
                )
        if good:
            chunks.extend(self._merge(good, len(separator)))
        return chunks

    def _merge(self, pieces: list[Span], step: int) -> list[Span]:
        """Pieces joined by their separator (a contiguous span of the source) into chunks."""
        chunks: list[Span] = []
        window: deque[Span] = deque()
        total = 0  # length of the window's text, separators included
        for piece in pieces:
            size = piece[1] - piece[0]
            if window and total + step + size > self.size:
                chunks.append((window[0][0], window[-1][1]))
                while window and (total > self.overlap or total + step + size > self.size):
                    first = window.popleft()
                    total -= first[1] - first[0] + (step if window else 0)
            total += size + (step if window else 0)
            window.append(piece)
        if window:
            chunks.append((window[0][0], window[-1][1]))
        return chunks


def _pieces(text: str, start: int, end: int, separator: str) -> list[Span]:
    """Spans of `text[start:end]` cut on `separator` (per character when it is empty)."""
    if not separator:
        return [(at, at + 1) for at in range(start, end)]
    pieces: list[Span] = []
    at = start
    while True:
        found = text.find(separator, at, end)
        if found < 0:
            pieces.append((at, end))
            return pieces
        pieces.append((at, found))
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
        chunks: list[str] = []
        details: list[dict[str, Any]] = []
        for source_index, (text, page) in enumerate(_sources(inputs.get("text"))):
            for start, end in splitter.spans(text):
                detail: dict[str, Any] = {
                    "index": len(chunks),
                    "text": text[start:end],
                    "start": start,
                    "end": end,
                    "source_index": source_index,
                }
                if page is not None:
                    detail["page"] = page
                chunks.append(detail["text"])
                details.append(detail)
        return {"chunks": chunks, "chunk_details": details}
