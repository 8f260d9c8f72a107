"""The resources an agent run may read (docs/agents.md, Tools): scope, text, chunks, vectors.

Scope: every team file/dataset id found in `agentInput` (a whole string or a token of one) plus
the ids in tool configs' `resource_ids`; when none is found, the whole team. Text of a resource:
a PDF's pages (the `pdf_reader` block's extraction and budgets, joined by a blank line), a text
file decoded as UTF-8, a dataset rendered as CSV (header line first). Lines are numbered from 1.

Everything is bounded: file bytes read, characters of text kept (the rest is cut with a note),
resources in a listing, chunks embedded per resource; texts and vectors are cached per run
within a total size.
"""

from __future__ import annotations

import asyncio
import bisect
import csv
import io
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ..ai.types import AIServices
from ..engine.blocks.pdf_reader import read_pdf
from ..engine.blocks.text_splitter import DEFAULT_SEPARATORS, Splitter
from ..engine.budgets import DEFAULT_BUDGETS, format_bytes
from ..engine.errors import BlockError
from ..engine.sections import SectionIndex, page_starts_of
from .errors import ToolError
from .host import AgentHost, ResourceInfo

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MAX_FILE_BYTES: Final = 32 << 20  # a file larger than this is not read by the tools
MAX_TEXT_CHARS: Final = 2_000_000  # text kept of one resource
MAX_CACHED_CHARS: Final = 8_000_000  # texts kept in memory for the run
MAX_SCOPE: Final = 1_000  # resources a run considers
MAX_CHUNKS: Final = 3_000  # chunks embedded per resource
MAX_CACHED_CHUNKS: Final = 20_000  # chunk vectors kept in memory for the run
CHUNK_SIZE: Final = 1000  # text_splitter defaults (docs/reference/blocks.md)
CHUNK_OVERLAP: Final = 200
_ID_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_ID_STRINGS: Final = 10_000  # strings of agentInput looked at for ids


@dataclass(slots=True)
class Chunk:
    text: str
    start: int  # offset in the resource's text
    first_line: int
    last_line: int
    page: int | None


@dataclass(slots=True)
class ResourceText:
    info: ResourceInfo
    text: str
    truncated: bool
    page_count: int | None = None  # PDFs
    page_starts: list[int] | None = None
    columns: list[dict[str, Any]] | None = None  # datasets: [{"name", "type"}]
    row_count: int | None = None
    _line_starts: list[int] = field(default_factory=list)
    _sections: SectionIndex | None = None

    def __post_init__(self) -> None:
        starts = [0]
        at = self.text.find("\n")
        while at >= 0:
            starts.append(at + 1)
            at = self.text.find("\n", at + 1)
        self._line_starts = starts

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def line(self, number: int) -> str:
        """Line `number` (1-based), without its newline."""
        start = self._line_starts[number - 1]
        end = self._line_starts[number] - 1 if number < len(self._line_starts) else len(self.text)
        return self.text[start:end]

    def lines(self, first: int, last: int) -> Iterator[tuple[int, str]]:
        for number in range(max(first, 1), min(last, self.line_count) + 1):
            yield number, self.line(number)

    def line_at(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset)

    def page_at(self, offset: int) -> int | None:
        if self.page_starts is None:
            return None
        return max(bisect.bisect_right(self.page_starts, offset), 1)

    @property
    def sections(self) -> SectionIndex:
        if self._sections is None:
            self._sections = SectionIndex(self.text, self.page_starts or (0,))
        return self._sections

    def chunks(self) -> list[Chunk]:
        splitter = Splitter(CHUNK_SIZE, CHUNK_OVERLAP, list(DEFAULT_SEPARATORS))
        found: list[Chunk] = []
        for start, end in splitter.iter_spans(self.text):
            found.append(
                Chunk(
                    self.text[start:end],
                    start,
                    self.line_at(start),
                    self.line_at(max(end - 1, start)),
                    self.page_at(start),
                )
            )
            if len(found) >= MAX_CHUNKS:
                break
        return found


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render_csv(
    columns: list[str], rows: Iterable[Mapping[str, Any]], limit: int
) -> tuple[str, bool]:
    """Rows as CSV text (header first), cut after the row that passes `limit` characters."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        if out.tell() > limit:
            return out.getvalue(), True
        writer.writerow([_cell(row.get(name)) for name in columns])
    return out.getvalue(), False


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    seen = 0
    while stack and seen < _MAX_ID_STRINGS:
        item = stack.pop()
        if isinstance(item, str):
            seen += 1
            yield item
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def scope_ids(
    agent_input: Mapping[str, Any], tool_config: Iterable[Mapping[str, Any]], known: set[str]
) -> list[str]:
    """Ids of team resources named in the input (whole strings or tokens) or in tool configs,
    in first-seen order."""
    found: dict[str, None] = {}
    for text in _strings(agent_input):
        if text in known:
            found[text] = None
        for token in _ID_TOKEN.findall(text):
            if token in known:
                found[token] = None
    for entry in tool_config:
        config = entry.get("config") if isinstance(entry, Mapping) else None
        listed = config.get("resource_ids") if isinstance(config, Mapping) else None
        if isinstance(listed, list):
            for item in listed:
                if isinstance(item, str) and item in known:
                    found[item] = None
    return list(found)


class Resources:
    """The run's resources: scope, texts and chunk vectors, cached (event loop only)."""

    def __init__(
        self,
        host: AgentHost,
        ai: AIServices,
        agent_input: Mapping[str, Any],
        tool_config: Iterable[Mapping[str, Any]],
        stopping: Callable[[], bool],
    ) -> None:
        self.host = host
        self.ai = ai
        self._agent_input = agent_input
        self._tool_config = list(tool_config)
        self._stopping = stopping
        self._scope: dict[str, ResourceInfo] | None = None
        self.team_ids: set[str] = set()
        self._texts: OrderedDict[str, ResourceText] = OrderedDict()
        self._vectors: OrderedDict[str, tuple[list[Chunk], npt.NDArray[np.float32]]] = OrderedDict()
        self._lock = asyncio.Lock()

    async def scope(self) -> list[ResourceInfo]:
        if self._scope is None:
            team = await self.host.list_resources()
            self.team_ids = {info.resource_id for info in team}
            named = set(scope_ids(self._agent_input, self._tool_config, self.team_ids))
            chosen = [info for info in team if info.resource_id in named] if named else team
            self._scope = {info.resource_id: info for info in chosen[:MAX_SCOPE]}
        return list(self._scope.values())

    async def info(self, resource_id: Any) -> ResourceInfo:
        if not isinstance(resource_id, str):
            raise ToolError("resource_id must be a string")
        await self.scope()
        assert self._scope is not None
        info = self._scope.get(resource_id)
        if info is None:
            raise ToolError(
                f"resource '{resource_id[:80]}' is not one of this run's resources "
                "(ResourceListTool lists them)"
            )
        return info

    async def text(self, resource_id: Any) -> ResourceText:
        info = await self.info(resource_id)
        async with self._lock:  # one load per resource even when tools run in parallel
            cached = self._texts.get(info.resource_id)
            if cached is not None:
                self._texts.move_to_end(info.resource_id)
                return cached
            loaded = await (self._dataset(info) if info.kind == "dataset" else self._file(info))
            self._texts[info.resource_id] = loaded
            while sum(len(item.text) for item in self._texts.values()) > MAX_CACHED_CHARS:
                if len(self._texts) == 1:
                    break
                self._texts.popitem(last=False)
            return loaded

    async def _file(self, info: ResourceInfo) -> ResourceText:
        found = await self.host.get_file(info.resource_id)
        if found is None:
            raise ToolError(f"file '{info.resource_id}' no longer exists")
        if found.file_size > MAX_FILE_BYTES:
            raise ToolError(
                f"file '{found.file_name}' is {format_bytes(found.file_size)}, over the "
                f"{format_bytes(MAX_FILE_BYTES)} the agent tools read"
            )
        data = await self.host.read_file(info.resource_id)
        mime = found.mime_type.split(";", 1)[0].strip().lower()
        if mime == "application/pdf" or data.startswith(b"%PDF"):
            try:
                pages, _ = await asyncio.to_thread(read_pdf, data, DEFAULT_BUDGETS, self._stopping)
            except BlockError as exc:
                raise ToolError(f"file '{found.file_name}': {exc.message}") from None
            text = "\n\n".join(pages)
            text, cut = _cut(text)
            return ResourceText(
                info, text, cut, page_count=len(pages), page_starts=page_starts_of(pages)
            )
        if b"\x00" in data[:8192]:
            raise ToolError(
                f"file '{found.file_name}' ({found.mime_type}) is neither a PDF nor a text file"
            )
        decoded = data.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
        text, cut = _cut(decoded)
        return ResourceText(info, text, cut)

    async def _dataset(self, info: ResourceInfo) -> ResourceText:
        found = await self.host.get_dataset(info.resource_id)
        if found is None:
            raise ToolError(f"dataset '{info.resource_id}' no longer exists")
        if not found.has_data:
            return ResourceText(info, "", False, columns=[], row_count=0)
        data = await self.host.read_dataset(info.resource_id)
        names = data.column_names()
        text, cut = render_csv(names, data.rows, MAX_TEXT_CHARS)
        columns = data.columns or [{"name": name, "type": None} for name in names]
        return ResourceText(
            info, text.rstrip("\n"), cut, columns=list(columns), row_count=len(data.rows)
        )

    async def chunk_vectors(self, resource_id: str) -> tuple[list[Chunk], npt.NDArray[np.float32]]:
        """The resource's chunks and one normalised embedding row per chunk (cached)."""
        cached = self._vectors.get(resource_id)
        if cached is not None:
            self._vectors.move_to_end(resource_id)
            return cached
        loaded = await self.text(resource_id)
        chunks = loaded.chunks()
        vectors = await self.embed([chunk.text for chunk in chunks])
        self._vectors[resource_id] = (chunks, vectors)
        while len(self._vectors) > 1 and (
            sum(len(kept) for kept, _ in self._vectors.values()) > MAX_CACHED_CHUNKS
        ):
            self._vectors.popitem(last=False)
        return chunks, vectors

    async def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        import numpy as np

        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        embedder = await asyncio.to_thread(self.ai.embeddings.get)
        return await asyncio.to_thread(embedder.embed, texts)


def _cut(text: str) -> tuple[str, bool]:
    if len(text) <= MAX_TEXT_CHARS:
        return text, False
    return text[:MAX_TEXT_CHARS], True
