"""`text_splitter` (pipelines.md 2.17): recursive character splitting into overlapping chunks.

Lengths are in code points. `split(text, seps)` cuts on the first separator of `seps` that occurs
(the empty separator means per character); pieces up to `chunk_size` are merged into chunks with
`chunk_overlap` characters of overlap, longer pieces are split again with the remaining
separators (or hard-sliced when none is left). Chunks are stripped, empty ones dropped.

Input `text`: a string, a list of strings, or a list of objects with `text` (e.g. the `pages` of
`pdf_reader`, whose `page_number` becomes each chunk's `page`). Outputs `chunks` (strings) and
`chunk_details` (`{"index", "text", "start", "end", "source_index", "page"?}`).
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


class Splitter:
    def __init__(self, chunk_size: int, chunk_overlap: int, separators: list[str]) -> None:
        self.size = chunk_size
        self.overlap = chunk_overlap
        self.separators = separators

    def split(self, text: str) -> list[str]:
        chunks = [chunk.strip() for chunk in self._split(text, self.separators)]
        return [chunk for chunk in chunks if chunk]

    def _split(self, text: str, separators: list[str]) -> list[str]:
        separator: str | None = None
        rest: list[str] = []
        for position, candidate in enumerate(separators):
            if candidate == "" or candidate in text:
                separator = candidate
                rest = separators[position + 1 :]
                break
        if separator is None:  # no separator occurs: one piece
            pieces, separator = [text], ""
        else:
            pieces = text.split(separator) if separator else list(text)
        chunks: list[str] = []
        good: list[str] = []
        for piece in pieces:
            if len(piece) <= self.size:
                good.append(piece)
                continue
            if good:
                chunks.extend(self._merge(good, separator))
                good = []
            if rest:
                chunks.extend(self._split(piece, rest))
            else:
                chunks.extend(piece[i : i + self.size] for i in range(0, len(piece), self.size))
        if good:
            chunks.extend(self._merge(good, separator))
        return chunks

    def _merge(self, pieces: list[str], separator: str) -> list[str]:
        step = len(separator)
        chunks: list[str] = []
        window: deque[str] = deque()
        total = 0  # length of separator.join(window)
        for piece in pieces:
            size = len(piece)
            if window and total + step + size > self.size:
                chunks.append(separator.join(window))
                while window and (
                    total > self.overlap or total + (step if window else 0) + size > self.size
                ):
                    total -= len(window.popleft()) + (step if window else 0)
            total += size + (step if window else 0)
            window.append(piece)
        if window:
            chunks.append(separator.join(window))
        return chunks


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
            start_from = 0
            for chunk in splitter.split(text):
                start = text.find(chunk, start_from)
                if start < 0:  # cannot happen (chunks are substrings); stay robust
                    start = text.find(chunk)
                start_from = max(start, 0)
                detail: dict[str, Any] = {
                    "index": len(chunks),
                    "text": chunk,
                    "start": start,
                    "end": start + len(chunk) if start >= 0 else -1,
                    "source_index": source_index,
                }
                if page is not None:
                    detail["page"] = page
                chunks.append(chunk)
                details.append(detail)
        return {"chunks": chunks, "chunk_details": details}
