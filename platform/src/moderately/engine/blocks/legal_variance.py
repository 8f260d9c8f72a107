"""`legal_variance_determination` (the extension type of example 05): for each
extracted clause, whether to accept it or modify it, judged against its definition, benchmarks,
variance guidance and research.

Per clause (input order, `max_concurrency` at once):

1. Rows are matched by clause number in the definitions, each benchmark dataset and the
   guidance dataset; numbers match when equal after trimming or when both are integers of equal
   value (`"2"` = `"002"`).
2. Research: rows whose `relevance` is the clause's name, then the `research_top_k` rows most
   similar to the name plus excerpts (ai/similarity.py); a row's text is `topic` + `content`,
   else its CSV line.
3. One structured call: `{"decision", "materiality", "confidence", "reasoning",
   "drafting_instructions", "research_insights"}`; the block adds `clause_number` (as given)
   and `clause_name` (from the definition, else null).
4. A clause without a definition row still gets a result; its reasoning says so.

`results` is a list with one element per extracted clause, in input order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from ...ai.similarity import Vectors, cosine_top_k, embed_texts
from ...ai.types import AIError, Embedder, Message, ModelChoice
from ..bounded import for_each_bounded
from ..context import BlockContext, DatasetRows
from ..errors import BlockError
from ..ports import Port
from ..registry import BlockType, block, floor_at_least_one
from ..tables import cell_text, column_lookup, csv_lines
from ..values import describe, to_text
from .llm import Provider, Tier, choose_model, dataset_refs, structured_call

DECISIONS: Final = ("ACCEPT", "MODIFY")
MATERIALITY: Final = ("FUNDAMENTAL", "MATERIAL", "NOTABLE", "DE_MINIMIS")
TEMPERATURE: Final = 0.1
MAX_TOKENS: Final = 4096
MAX_LIST_ITEMS: Final = 20
QUERY_CHARS: Final = 4000  # name + excerpts embedded as the research query
SECTION_CHARS: Final = 20_000  # each reference section of the prompt
MAX_CLAUSE_KEY: Final = 40  # longer "numbers" compare as text

DETERMINATION_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "object",
    "properties": {
        "decision": {"type": "string", "enum": list(DECISIONS)},
        "materiality": {"type": "string", "enum": list(MATERIALITY)},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "reasoning": {"type": "string"},
        "drafting_instructions": {
            "type": "array",
            "items": {"type": "string"},
            "maxItems": MAX_LIST_ITEMS,
        },
        "research_insights": {
            "type": "array",
            "maxItems": MAX_LIST_ITEMS,
            "items": {
                "type": "object",
                "properties": {
                    "topic": {"type": "string"},
                    "source_type": {"type": "string"},
                    "insight": {"type": "string"},
                },
                "required": ["topic", "source_type", "insight"],
            },
        },
    },
    "required": [
        "decision",
        "materiality",
        "confidence",
        "reasoning",
        "drafting_instructions",
        "research_insights",
    ],
}

RULES: Final = (
    "Determine whether the extracted contract clause below can be accepted as drafted (ACCEPT) "
    "or must be changed (MODIFY), judged against its definition, the benchmark terms, the "
    "variance guidance and the research. Rate the materiality of any variance as FUNDAMENTAL, "
    "MATERIAL, NOTABLE or DE_MINIMIS and your confidence from 0 to 1. For MODIFY, give concrete "
    "drafting instructions; list the research insights you relied on."
)


class LegalVarianceConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    general_instructions: str = Field(default="", max_length=200_000)
    clause_definition: str = Field(
        default="", max_length=100_000, description="Overrides the dataset's definition"
    )
    transaction_context: str = Field(default="", max_length=100_000)
    model: Tier = Field(default="medium", description="Model tier")
    provider: Provider | None = Field(default=None, description="Default: the server's default")
    max_concurrency: float = Field(default=3, ge=1, description="Clauses worked on at once")
    research_top_k: int = Field(default=5, ge=0, le=100)
    embedding_model: str | None = Field(
        default=None, max_length=200, description="Default: the server's default model"
    )


def clause_key(value: Any) -> str:
    """The form clause numbers are compared in: trimmed text, integers by value."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = to_text(value).strip() if not isinstance(value, str) else value.strip()
    if text.isascii() and text.isdigit() and len(text) <= MAX_CLAUSE_KEY:
        return str(int(text))
    return text


# -- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Extracted:
    number: Any  # as given
    excerpts: list[tuple[str, str]]  # (section, text)

    def excerpt_text(self) -> str:
        return "\n\n".join(
            f"[{section}] {text}" if section else text for section, text in self.excerpts
        )


def extracted_clauses(value: Any) -> list[Extracted]:
    if not isinstance(value, list):
        raise BlockError(
            "invalid_input", f"'extracted_clauses' must be an array, got {describe(value)}"
        )
    clauses: list[Extracted] = []
    for index, item in enumerate(value):
        number = item.get("clause_number") if isinstance(item, dict) else None
        if number is None or isinstance(number, dict | list | bool) or not str(number).strip():
            raise BlockError(
                "invalid_input",
                f"'extracted_clauses' item {index} must be an object with a clause_number",
            )
        excerpts = item.get("excerpts") or []
        if not isinstance(excerpts, list):
            raise BlockError(
                "invalid_input", f"'extracted_clauses' item {index}: excerpts must be an array"
            )
        pairs = [
            (to_text(excerpt.get("section") or ""), to_text(excerpt.get("text") or ""))
            if isinstance(excerpt, dict)
            else ("", to_text(excerpt))
            for excerpt in excerpts
        ]
        clauses.append(Extracted(number, pairs))
    return clauses


@dataclass(slots=True)
class Table:
    """Rows of one dataset indexed by clause number (the first row of each number)."""

    rows: DatasetRows
    columns: dict[str, str]
    by_number: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: DatasetRows) -> Table:
        columns = column_lookup(rows)
        table = cls(rows, columns)
        number_column = columns.get("clause_number")
        if number_column is not None:
            for row in rows.rows:
                key = clause_key(row.get(number_column) or "")
                if key:
                    table.by_number.setdefault(key, row)
        return table

    def text(self, row: Mapping[str, Any], names: tuple[str, ...]) -> str:
        """`name: value` lines for the named columns present, else every column but the
        clause number."""
        present = [(name, self.columns[name]) for name in names if name in self.columns]
        if not present:
            present = [
                (name, column) for name, column in self.columns.items() if name != "clause_number"
            ]
        return "\n".join(
            f"{name}: {cell_text(row, column)}"
            for name, column in present
            if cell_text(row, column)
        )


@dataclass(frozen=True, slots=True)
class ResearchRow:
    text: str
    relevance: str  # lower-cased


def research_rows(tables: list[DatasetRows]) -> list[ResearchRow]:
    found: list[ResearchRow] = []
    for rows in tables:
        columns = column_lookup(rows)
        lines = csv_lines(rows)
        next(lines)  # the header
        for row, line in zip(rows.rows, lines, strict=True):
            topic = cell_text(row, columns.get("topic"))
            content = cell_text(row, columns.get("content"))
            source = cell_text(row, columns.get("source_type"))
            if topic or content:
                text = "\n".join(part for part in (topic, content) if part)
                if source:
                    text = f"{text}\n(source type: {source})"
            else:
                text = line.strip()
            found.append(ResearchRow(text, cell_text(row, columns.get("relevance")).lower()))
    return found


# -- the block ----------------------------------------------------------------------------------


@dataclass(slots=True)
class References:
    definitions: Table
    benchmarks: list[Table]
    guidance: Table | None
    research: list[ResearchRow]
    research_vectors: Vectors | None
    embedder: Embedder | None


@block("legal_variance_determination")
class LegalVarianceDetermination(BlockType[LegalVarianceConfig]):
    description = "Accept or modify each extracted clause against definitions and benchmarks."
    config_model = LegalVarianceConfig
    inputs = (
        Port("extracted_clauses", required=True, primary=True, kind="array"),
        Port("clause_definition_dataset_id", required=True, kind="dataset_ref"),
        Port("benchmark_dataset_ids", multi=True, kind="dataset_refs"),
        Port("research_dataset_ids", multi=True, kind="dataset_refs"),
        Port("clause_variance_guidance_dataset_id", kind="dataset_ref"),
    )
    outputs = (Port("results", primary=True, kind="array"),)

    async def run(
        self, ctx: BlockContext, config: LegalVarianceConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        clauses = extracted_clauses(inputs.get("extracted_clauses"))
        budgets = ctx.budgets
        if len(clauses) > budgets.map_max_items:
            raise budgets.exceeded("map_max_items", f"there are {len(clauses):,} clauses")
        choice = choose_model(ctx.ai.chat, config.provider, config.model)
        if not clauses:
            return {"results": []}
        references = await self._references(ctx, config, inputs)
        await ctx.items_progress(total=len(clauses), completed=0)
        results: list[dict[str, Any] | None] = [None] * len(clauses)
        system = "\n\n".join(
            part
            for part in (
                config.general_instructions.strip(),
                f"Transaction context:\n{config.transaction_context.strip()}"
                if config.transaction_context.strip()
                else "",
                RULES,
            )
            if part
        )
        done = 0

        async def determine(index: int) -> None:
            nonlocal done
            results[index] = await self._determine(
                ctx, config, choice, system, references, clauses[index]
            )
            done += 1
            await ctx.items_progress(completed=done)

        limit = min(floor_at_least_one(config.max_concurrency), budgets.map_max_concurrency)
        await for_each_bounded(ctx, len(clauses), limit, determine)
        return {"results": results}

    async def _references(
        self, ctx: BlockContext, config: LegalVarianceConfig, inputs: dict[str, Any]
    ) -> References:
        async def load(ref: Any, port: str) -> DatasetRows:
            return await ctx.load_rows(ref, port=port)

        definitions = Table.of(
            await load(inputs["clause_definition_dataset_id"], "clause_definition_dataset_id")
        )
        if "clause_number" not in definitions.columns:
            raise BlockError(
                "invalid_input", "the clause definitions dataset has no clause_number column"
            )
        benchmarks = [
            Table.of(await load(ref, "benchmark_dataset_ids"))
            for ref in dataset_refs(inputs.get("benchmark_dataset_ids", []))
        ]
        guidance_ref = inputs.get("clause_variance_guidance_dataset_id")
        guidance = (
            Table.of(await load(guidance_ref, "clause_variance_guidance_dataset_id"))
            if guidance_ref is not None
            else None
        )
        research = research_rows(
            [
                await load(ref, "research_dataset_ids")
                for ref in dataset_refs(inputs.get("research_dataset_ids", []))
            ]
        )
        if len(research) > ctx.budgets.embedding_max_texts:
            raise ctx.budgets.exceeded(
                "embedding_max_texts", f"the research datasets have {len(research):,} rows"
            )
        embedder: Embedder | None = None
        vectors: Vectors | None = None
        if research and config.research_top_k:
            try:
                embedder = ctx.ai.embeddings.get(config.embedding_model)
            except AIError as exc:
                raise BlockError(exc.error_type, exc.message) from None
            vectors = await embed_texts(
                embedder, [row.text for row in research], stopped=ctx.cancelled
            )
        return References(definitions, benchmarks, guidance, research, vectors, embedder)

    async def _research(
        self,
        ctx: BlockContext,
        config: LegalVarianceConfig,
        refs: References,
        name: str | None,
        query: str,
    ) -> list[str]:
        """Rows whose relevance is the clause's name, then those most similar to `query`."""
        wanted = (name or "").strip().lower()
        chosen = [
            index for index, row in enumerate(refs.research) if wanted and row.relevance == wanted
        ]
        if refs.embedder is not None and refs.research_vectors is not None:
            vector = await embed_texts(refs.embedder, [query[:QUERY_CHARS]], stopped=ctx.cancelled)
            for index, _ in cosine_top_k(
                vector[0], refs.research_vectors, top_k=config.research_top_k
            ):
                if index not in chosen:
                    chosen.append(index)
        return [refs.research[index].text for index in chosen]

    async def _determine(
        self,
        ctx: BlockContext,
        config: LegalVarianceConfig,
        choice: ModelChoice,
        system: str,
        refs: References,
        clause: Extracted,
    ) -> dict[str, Any]:
        key = clause_key(clause.number)
        definition_row = refs.definitions.by_number.get(key)
        columns = refs.definitions.columns
        name = None
        if definition_row is not None:
            name = cell_text(
                definition_row, columns.get("clause_name") or columns.get("clause_description")
            )
        number_text = to_text(clause.number).strip()
        sections = [f"Clause number: {number_text}" + (f"\nClause name: {name}" if name else "")]
        if config.clause_definition.strip():
            sections.append(f"Clause definition:\n{config.clause_definition.strip()}")
        elif definition_row is not None:
            sections.append(
                "Clause definition:\n"
                + refs.definitions.text(
                    definition_row,
                    (
                        "clause_description",
                        "extraction_inclusion_criteria",
                        "extraction_exclusion_criteria",
                    ),
                )
            )
        else:
            sections.append(f"No definition was found for clause {number_text}.")
        for table in refs.benchmarks:
            row = table.by_number.get(key)
            if row is not None:
                text = table.text(row, ("standard_terms", "acceptable_variations"))
                sections.append(f"Benchmark:\n{text}")
        if refs.guidance is not None and (row := refs.guidance.by_number.get(key)) is not None:
            text = refs.guidance.text(
                row, ("materiality_factors", "risk_indicators", "evaluation_approach")
            )
            sections.append(f"Variance guidance:\n{text}")
        query = f"{name or number_text}\n{clause.excerpt_text()}"
        research = await self._research(ctx, config, refs, name, query)
        if research:
            sections.append("Research:\n" + "\n---\n".join(research))
        sections.append(f"Extracted clause text:\n{clause.excerpt_text() or '(no excerpts)'}")
        prompt = "\n\n".join(section[:SECTION_CHARS] for section in sections)
        try:
            value, _ = await structured_call(
                ctx,
                choice,
                [Message("user", prompt)],
                schema=dict(DETERMINATION_SCHEMA),
                system=system,
                temperature=TEMPERATURE,
                max_tokens=MAX_TOKENS,
            )
        except BlockError as exc:
            raise BlockError(exc.error_type, f"clause {number_text}: {exc.message}") from None
        reasoning = str(value["reasoning"])
        if definition_row is None and not config.clause_definition.strip():
            reasoning = (
                f"No definition row was found for clause {number_text}; judged without it. "
                + reasoning
            )
        return {
            "clause_number": clause.number,
            "clause_name": name or None,
            "decision": value["decision"],
            "materiality": value["materiality"],
            "confidence": min(max(float(value["confidence"]), 0.0), 1.0),
            "reasoning": reasoning,
            "drafting_instructions": [str(item) for item in value["drafting_instructions"]],
            "research_insights": list(value["research_insights"]),
        }
