"""`semantic_filter`: keep the items most similar to a query.

`items` is a list of strings or objects (text as in `embeddings`: `text`, `content`, `chunk`,
else sorted-key JSON); an object whose `embedding` is a list of the model's dimension is not
embedded again (queries too). `query` is a string, an object or a list of them.

Score = cosine similarity (6 decimals). Items scoring at least `similarity_threshold` are sorted
by score, best first (ties keep the items' order), and the first `top_k` kept. For one query the
outputs are `items` (the kept items as given), `scores` and `matches` (`[{"index", "score",
"item"}]`); for a list of queries each output is a list with one such result per query.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ...ai.similarity import Vectors, cosine_top_k, given_embedding
from ...ai.types import Embedder
from ..context import BlockContext
from ..errors import BlockError
from ..ports import Port
from ..registry import BlockType, block
from ..values import describe
from .embeddings import (
    batch_size_field,
    check_text_count,
    element_text,
    embed_with_progress,
    load_embedder,
    model_name_field,
)

RANK_CHUNK: Final = 64  # queries ranked per worker-thread call


class SemanticFilterConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    embedding_model: str = model_name_field()
    filter_strategy: Literal["cosine_similarity_top_k"] = "cosine_similarity_top_k"
    top_k: int = Field(default=10, ge=1, le=1000, description="Items kept per query")
    similarity_threshold: float = Field(
        default=0, ge=0, le=1, description="Lowest cosine similarity kept"
    )
    batch_size: int = batch_size_field()


async def _vectors(
    ctx: BlockContext, embedder: Embedder, values: list[Any], texts: list[str], batch_size: int
) -> Vectors:
    """One normalised row per value: its own `embedding` where that fits the model, else its
    text embedded (those texts count against `embedding_max_texts`)."""
    rows = np.zeros((len(values), embedder.dimensions), dtype=np.float32)
    pending: list[int] = []
    for index, value in enumerate(values):
        given = given_embedding(value, embedder.dimensions)
        if given is None:
            pending.append(index)
        else:
            rows[index] = given
    check_text_count(ctx, len(pending))
    if pending:
        rows[pending] = await embed_with_progress(
            ctx, embedder, [texts[index] for index in pending], batch_size
        )
    return rows


async def _rank(
    ctx: BlockContext, queries: Vectors, items: Vectors, config: SemanticFilterConfig
) -> list[list[tuple[int, float]]]:
    """`cosine_top_k` for every query, `RANK_CHUNK` queries at a time in a worker thread (many
    queries over many items is seconds of CPU), stopping between chunks when the run stops."""

    def rank(chunk: Vectors) -> list[list[tuple[int, float]]]:
        return [
            cosine_top_k(row, items, top_k=config.top_k, threshold=config.similarity_threshold)
            for row in chunk
        ]

    results: list[list[tuple[int, float]]] = []
    for start in range(0, len(queries), RANK_CHUNK):
        if ctx.cancelled():
            raise asyncio.CancelledError
        results += await asyncio.to_thread(rank, queries[start : start + RANK_CHUNK])
    return results


@block("semantic_filter")
class SemanticFilter(BlockType[SemanticFilterConfig]):
    description = "Keep the items most similar to a query (cosine similarity, top k)."
    config_model = SemanticFilterConfig
    inputs = (
        Port("items", required=True, primary=True, kind="array"),
        Port("query", required=True),
    )
    outputs = (
        Port("items", primary=True, kind="array"),
        Port("scores", kind="array"),
        Port("matches", kind="array"),
    )

    async def run(
        self, ctx: BlockContext, config: SemanticFilterConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        items = inputs.get("items")
        if not isinstance(items, list):
            raise BlockError(
                "invalid_input",
                f"'items' must be a list of strings or objects, got {describe(items)}",
            )
        query = inputs.get("query")
        many = isinstance(query, list)
        queries: list[Any] = query if isinstance(query, list) else [query]
        # every text is checked before the model is loaded
        texts = [
            element_text(value, "query", index if many else None)
            for index, value in enumerate(queries)
        ]
        texts += [element_text(value, "items", index) for index, value in enumerate(items)]

        embedder = await load_embedder(ctx, config.embedding_model)
        rows = await _vectors(ctx, embedder, [*queries, *items], texts, config.batch_size)
        query_rows, item_rows = rows[: len(queries)], rows[len(queries) :]

        results = await _rank(ctx, query_rows, item_rows, config)
        kept = [[items[index] for index, _ in hits] for hits in results]
        scores = [[score for _, score in hits] for hits in results]
        matches = [
            [{"index": index, "score": score, "item": items[index]} for index, score in hits]
            for hits in results
        ]
        if many:
            return {"items": kept, "scores": scores, "matches": matches}
        return {"items": kept[0], "scores": scores[0], "matches": matches[0]}
