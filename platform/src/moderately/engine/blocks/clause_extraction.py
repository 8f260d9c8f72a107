"""`clause_extraction_agent`: the passages of a contract that correspond to
each clause of a clause-definitions dataset.

Phases (`progressData.blocks[id].phase`; items = clauses):

1. `reading`: the PDF's pages (pdf_reader's extraction; a UTF-8 text or Markdown file is one
   page), and their section labels (engine/sections.py).
2. `chunking`: text_splitter's chunks of the whole text, each with its section and page.
3. `retrieving`: per clause, the search model writes up to 3 short queries from the clause's
   name, description and inclusion criteria; chunks score by their best cosine against them
   (ai/similarity.py) and the `semantic_filter_top_k` best with a score of at least
   `similarity_threshold` are its candidates.
4. `extracting`: per clause with candidates, the extraction model gets the instructions, the
   definition, the context dataset (reference material) and the candidates, and answers
   `{"found", "excerpts": [{"section", "text"}], "reasoning"}`.

Post-check: an excerpt the document does not contain (whitespace-normalised) is dropped with a
warning; the others become the document's own span (its section is the one detected there),
without duplicates, in document order. A clause with `found: false`, no excerpt left, or a
reply that stayed invalid after the repair turn (a warning) is not found.

`results` = `{"standard_clauses": [{"clause_number", "clause_name", "excerpts", "reasoning"}],
"clauses_not_found": [clause_number, ...]}`, both in definitions order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...ai.similarity import Vectors, embed_texts
from ...ai.types import AIError, Message, ModelChoice
from ..bounded import for_each_bounded
from ..budgets import Budgets, format_bytes
from ..context import BlockContext, DatasetRows
from ..errors import BlockError
from ..ports import Port
from ..registry import BlockType, block, floor_at_least_one
from ..sections import SectionIndex
from ..tables import capped_csv, cell_text, column_lookup
from ..verbatim import NormalisedText
from .llm import Provider, Tier, choose_model, structured_call
from .pdf_reader import extract_pages, is_pdf
from .text_splitter import DEFAULT_SEPARATORS, Splitter, check_overlap

SEARCH_TEMPERATURE: Final = 0.0
SEARCH_MAX_TOKENS: Final = 1024
EXTRACTION_TEMPERATURE: Final = 0.1
EXTRACTION_MAX_TOKENS: Final = 2048
MAX_QUERIES: Final = 3
MAX_QUERY_CHARS: Final = 300
MAX_EXCERPTS: Final = 20
CONTEXT_CHARS: Final = 50_000  # the context dataset as reference material, per call
TEXT_SUFFIXES: Final = (".txt", ".md", ".markdown", ".text")

QUERY_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "object",
    "properties": {
        "queries": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "maxItems": MAX_QUERIES,
        }
    },
    "required": ["queries"],
}
EXTRACTION_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "object",
    "properties": {
        "found": {"type": "boolean"},
        "excerpts": {
            "type": "array",
            "maxItems": MAX_EXCERPTS,
            "items": {
                "type": "object",
                "properties": {"section": {"type": "string"}, "text": {"type": "string"}},
                "required": ["section", "text"],
            },
        },
        "reasoning": {"type": "string"},
    },
    "required": ["found", "excerpts", "reasoning"],
}

SEARCH_SYSTEM: Final = (
    "You write search queries that find one clause in a contract. Given the clause's "
    f"definition, answer with up to {MAX_QUERIES} short queries (a few words each) phrased "
    "the way a contract would word that clause."
)
EXTRACTION_RULES: Final = (
    "Decide whether the contract contains the clause defined below, using only the candidate "
    "passages. Quote each relevant excerpt verbatim, exactly as it appears in a passage (no "
    "paraphrase, no ellipsis), with the section label of its passage. If the clause is not "
    "present, answer found=false with no excerpts. Explain your decision in reasoning."
)


class ClauseExtractionConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    instructions: str = Field(max_length=100_000, description="What to extract, and how")
    chunk_size: int = Field(default=1000, gt=0, le=10_000)
    chunk_overlap: int = Field(default=200, ge=0)
    semantic_filter_top_k: int = Field(default=10, ge=1, le=100)
    similarity_threshold: float = Field(default=0.1, ge=-1, le=1)
    max_concurrency: float = Field(default=3, ge=1, description="Clauses worked on at once")
    search_llm_model: Tier = "small"
    extraction_llm_model: Tier = "small"
    search_llm_provider: Provider | None = Field(
        default=None, description="Default: the server's default provider"
    )
    extraction_llm_provider: Provider | None = Field(
        default=None, description="Default: the server's default provider"
    )
    embedding_model: str | None = Field(
        default=None, max_length=200, description="Default: the server's default model"
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Self:
        check_overlap(self.chunk_size, self.chunk_overlap)
        return self


# -- definitions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clause:
    number: str
    name: str
    description: str = ""
    inclusion: str = ""
    exclusion: str = ""

    def definition(self) -> str:
        lines = [f"Clause number: {self.number}", f"Clause name: {self.name}"]
        for label, text in (
            ("Description", self.description),
            ("Include", self.inclusion),
            ("Exclude", self.exclusion),
        ):
            if text:
                lines.append(f"{label}: {text}")
        return "\n".join(lines)


def clauses_of(rows: DatasetRows, ctx: BlockContext) -> list[Clause]:
    """The definitions (3): `clause_number` required; name = `clause_name`, else
    `clause_description`; columns found case-insensitively."""
    columns = column_lookup(rows)
    number_column = columns.get("clause_number")
    if number_column is None:
        raise BlockError(
            "invalid_input",
            "the clause definitions dataset has no clause_number column (columns: "
            f"{', '.join(rows.column_names()[:20]) or 'none'})",
        )
    name_column = columns.get("clause_name") or columns.get("clause_description")
    clauses: list[Clause] = []
    for position, row in enumerate(rows.rows):
        number = cell_text(row, number_column)
        if not number:
            ctx.warn(f"clause definitions row {position + 1} has no clause_number; skipped")
            continue
        clauses.append(
            Clause(
                number=number,
                name=cell_text(row, name_column) or number,
                description=cell_text(row, columns.get("clause_description")),
                inclusion=cell_text(row, columns.get("extraction_inclusion_criteria")),
                exclusion=cell_text(row, columns.get("extraction_exclusion_criteria")),
            )
        )
    return clauses


# -- the document -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chunk:
    text: str
    start: int
    section: str
    page: int

    def labelled(self, number: int) -> str:
        return f"[Passage {number} | section: {self.section} | page {self.page}]\n{self.text}"


@dataclass(slots=True)
class Document:
    text: str
    sections: SectionIndex
    chunks: list[Chunk] = field(default_factory=list)


async def read_document(ctx: BlockContext, ref: Any) -> Document:
    info = await ctx.file(ref)
    data = await ctx.read_file(info)
    if is_pdf(info, data):
        pages, _ = await extract_pages(ctx, data)
    else:
        mime = info.mime_type.split(";", 1)[0].strip().lower()
        if not (mime.startswith("text/") or info.file_name.lower().endswith(TEXT_SUFFIXES)):
            raise BlockError(
                "unsupported_file_type",
                f"file '{info.file_id}' ({info.mime_type}) is neither a PDF nor a text file",
            )
        limit = ctx.budgets.pdf_max_text_bytes
        if len(data) > limit:
            raise ctx.budgets.exceeded(
                "pdf_max_text_bytes", f"the text file is {format_bytes(len(data))}"
            )
        try:
            pages = [data.decode("utf-8-sig")]
        except UnicodeDecodeError as exc:
            raise BlockError(
                "unsupported_file_type", f"file '{info.file_id}' is not UTF-8 text: {exc}"
            ) from None
    index = SectionIndex.of_pages(pages)
    text = "\n\n".join(pages)
    if not text.strip():
        raise BlockError("invalid_input", f"file '{info.file_id}' has no extractable text")
    return Document(text, index)


def chunk_document(
    document: Document, config: ClauseExtractionConfig, budgets: Budgets
) -> list[Chunk]:
    """text_splitter's chunks of the whole text, at most `embedding_max_texts` of them."""
    splitter = Splitter(config.chunk_size, config.chunk_overlap, list(DEFAULT_SEPARATORS))
    chunks: list[Chunk] = []
    for start, end in splitter.iter_spans(document.text):
        if len(chunks) >= budgets.embedding_max_texts:
            raise budgets.exceeded(
                "embedding_max_texts",
                f"the document makes more than {len(chunks):,} chunks of {config.chunk_size:,} "
                "characters",
            )
        chunks.append(
            Chunk(
                document.text[start:end],
                start,
                document.sections.label_at(start),
                document.sections.page_at(start),
            )
        )
    return chunks


# -- the block ----------------------------------------------------------------------------------


@dataclass(slots=True)
class ClauseResult:
    candidates: list[int] = field(default_factory=list)
    excerpts: list[dict[str, str]] = field(default_factory=list)
    reasoning: str = ""
    found: bool = False


@block("clause_extraction_agent")
class ClauseExtractionAgent(BlockType[ClauseExtractionConfig]):
    description = "Find the passages of a contract PDF that match each clause definition."
    config_model = ClauseExtractionConfig
    inputs = (
        Port("file_id", required=True, primary=True, kind="file_ref"),
        Port("dataset_id", required=True, kind="dataset_ref"),
        Port("context_dataset_id", kind="dataset_ref"),
    )
    outputs = (Port("results", primary=True, kind="object"),)

    async def run(
        self, ctx: BlockContext, config: ClauseExtractionConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        chat = ctx.ai.chat
        search_model = choose_model(chat, config.search_llm_provider, config.search_llm_model)
        extraction_model = choose_model(
            chat, config.extraction_llm_provider, config.extraction_llm_model
        )
        definitions = await ctx.load_rows(inputs["dataset_id"], port="dataset_id")
        clauses = clauses_of(definitions, ctx)
        if len(clauses) > ctx.budgets.map_max_items:
            raise ctx.budgets.exceeded(
                "map_max_items", f"the clause definitions have {len(clauses):,} clauses"
            )
        reference = ""
        if inputs.get("context_dataset_id") is not None:
            context_rows = await ctx.load_rows(
                inputs["context_dataset_id"], port="context_dataset_id"
            )
            reference = capped_csv(context_rows, CONTEXT_CHARS)
        await ctx.items_progress(total=len(clauses), completed=0)

        await ctx.set_phase("reading")
        document = await read_document(ctx, inputs["file_id"])
        await ctx.set_phase("chunking")
        document.chunks = chunk_document(document, config, ctx.budgets)

        await ctx.set_phase("retrieving")
        try:
            embedder = ctx.ai.embeddings.get(config.embedding_model)
        except AIError as exc:
            raise BlockError(exc.error_type, exc.message) from None
        chunk_vectors = await embed_texts(
            embedder, [chunk.text for chunk in document.chunks], stopped=ctx.cancelled
        )
        results = [ClauseResult() for _ in clauses]
        limit = min(floor_at_least_one(config.max_concurrency), ctx.budgets.map_max_concurrency)
        done = 0

        async def retrieve(index: int) -> None:
            nonlocal done
            queries = await self._queries(ctx, search_model, clauses[index])
            query_vectors = await embed_texts(embedder, queries, stopped=ctx.cancelled)
            results[index].candidates = best_chunks(
                query_vectors,
                chunk_vectors,
                config.semantic_filter_top_k,
                config.similarity_threshold,
            )
            done += 1
            await ctx.items_progress(completed=done)

        await for_each_bounded(ctx, len(clauses), limit, retrieve)

        await ctx.set_phase("extracting")
        done = 0
        await ctx.items_progress(completed=0)
        normalised = await asyncio.to_thread(NormalisedText, document.text)
        system = _extraction_system(config.instructions, reference)

        async def extract(index: int) -> None:
            nonlocal done
            result = results[index]
            if result.candidates:
                await self._extract(
                    ctx, extraction_model, system, clauses[index], document, normalised, result
                )
            done += 1
            await ctx.items_progress(completed=done)

        await for_each_bounded(ctx, len(clauses), limit, extract)
        return {"results": _results(clauses, results)}

    async def _queries(self, ctx: BlockContext, choice: ModelChoice, clause: Clause) -> list[str]:
        """Up to 3 search queries for the clause; its name when the model gives none."""
        prompt = "\n".join(
            part
            for part in (
                f"Clause name: {clause.name}",
                f"Description: {clause.description}" if clause.description else "",
                f"Include: {clause.inclusion}" if clause.inclusion else "",
            )
            if part
        )
        value, problem = await _answer(
            ctx,
            choice,
            prompt,
            schema=QUERY_SCHEMA,
            system=SEARCH_SYSTEM,
            temperature=SEARCH_TEMPERATURE,
            max_tokens=SEARCH_MAX_TOKENS,
        )
        if problem is not None:
            ctx.warn(f"clause {clause.number}: search queries unusable ({problem[:200]})")
            value = {}
        queries = _clean_queries(value.get("queries") if isinstance(value, dict) else None)
        return queries or [clause.name]

    async def _extract(
        self,
        ctx: BlockContext,
        choice: ModelChoice,
        system: str,
        clause: Clause,
        document: Document,
        normalised: NormalisedText,
        result: ClauseResult,
    ) -> None:
        passages = "\n\n".join(
            document.chunks[chunk].labelled(number)
            for number, chunk in enumerate(result.candidates, start=1)
        )
        prompt = f"Clause definition:\n{clause.definition()}\n\nCandidate passages:\n\n{passages}"
        value, problem = await _answer(
            ctx,
            choice,
            prompt,
            schema=EXTRACTION_SCHEMA,
            system=system,
            temperature=EXTRACTION_TEMPERATURE,
            max_tokens=EXTRACTION_MAX_TOKENS,
        )
        if problem is not None:
            ctx.warn(f"clause {clause.number}: no valid answer, treated as not found")
            return
        result.reasoning = str(value.get("reasoning", ""))
        result.found = value.get("found") is True
        if result.found:
            result.excerpts = verified_excerpts(
                ctx, clause, value.get("excerpts") or [], document, normalised
            )


async def _answer(
    ctx: BlockContext,
    choice: ModelChoice,
    prompt: str,
    *,
    schema: Mapping[str, Any],
    system: str,
    temperature: float,
    max_tokens: int,
) -> tuple[Any, str | None]:
    """The model's structured answer to one user prompt, and None; or, when it gave no valid
    answer, None and why (the clause goes on without it). Any other error fails the block."""
    try:
        value, _ = await structured_call(
            ctx,
            choice,
            [Message("user", prompt)],
            schema=dict(schema),
            system=system,
            temperature=temperature,
            max_tokens=max_tokens,
        )
    except BlockError as exc:
        if exc.error_type != "llm_output_invalid":
            raise
        return None, exc.message
    return value, None


def best_chunks(queries: Vectors, chunks: Vectors, top_k: int, threshold: float) -> list[int]:
    """Chunk indexes by their best cosine against any query (rows normalised), best first
    (ties in document order), at least `threshold`, at most `top_k`."""
    if len(chunks) == 0 or len(queries) == 0:
        return []
    best = (chunks @ queries.T).max(axis=1)
    order = np.argsort(-best, kind="stable")
    return [int(index) for index in order[best[order] >= threshold][:top_k]]


def _clean_queries(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        return []
    cleaned = [" ".join(str(query).split())[:MAX_QUERY_CHARS] for query in raw]
    return list(dict.fromkeys(query for query in cleaned if query))[:MAX_QUERIES]


def _extraction_system(instructions: str, reference: str) -> str:
    parts = [instructions.strip(), EXTRACTION_RULES]
    if reference:
        parts.append(f"Reference material (legal context, CSV):\n{reference}")
    return "\n\n".join(part for part in parts if part)


def verified_excerpts(
    ctx: BlockContext,
    clause: Clause,
    excerpts: Iterable[Any],
    document: Document,
    normalised: NormalisedText,
) -> list[dict[str, str]]:
    """The excerpts the document contains, as its own spans, without duplicates, in document
    order; the others are dropped with a warning."""
    spans: dict[tuple[int, int], None] = {}
    dropped = 0
    for excerpt in excerpts:
        text = excerpt.get("text") if isinstance(excerpt, dict) else None
        span = normalised.locate(text) if isinstance(text, str) else None
        if span is None:
            dropped += 1
            continue
        spans[span] = None
    if dropped:
        ctx.warn(
            f"clause {clause.number}: {dropped} excerpt(s) not found verbatim in the document; "
            "dropped"
        )
    return [
        {"section": document.sections.label_at(start), "text": document.text[start:end]}
        for start, end in sorted(spans)
    ]


def _results(clauses: list[Clause], results: list[ClauseResult]) -> dict[str, Any]:
    found: list[dict[str, Any]] = []
    not_found: list[str] = []
    for clause, result in zip(clauses, results, strict=True):
        if result.found and result.excerpts:
            found.append(
                {
                    "clause_number": clause.number,
                    "clause_name": clause.name,
                    "excerpts": result.excerpts,
                    "reasoning": result.reasoning,
                }
            )
        else:
            not_found.append(clause.number)
    return {"standard_clauses": found, "clauses_not_found": not_found}
