"""Semantic search over JSON values: the text of an item, its vector, cosine top-k.

Shared by the `embeddings` and `semantic_filter` blocks, the clause
extraction and the agent runtime:

    texts = [item_text(item) for item in items]
    vectors = await embed_texts(embedder, texts, batch_size=100, stopped=ctx.cancelled)
    hits = cosine_top_k(vectors[0], vectors[1:], top_k=5)     # [(index, score), ...]

Vectors are float32 rows, L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from .types import Embedder

__all__ = [
    "DECIMALS",
    "EMBEDDING_KEY",
    "TEXT_KEYS",
    "Vectors",
    "cosine_top_k",
    "embed_texts",
    "given_embedding",
    "item_text",
    "unit_rows",
    "vector_list",
]

Vectors = npt.NDArray[np.float32]

# The keys whose string value is an object's text, in order of preference.
TEXT_KEYS: Final = ("text", "content", "chunk")
# The key under which the embeddings block adds an object's vector.
EMBEDDING_KEY: Final = "embedding"
# Scores and vector components are given to this many decimals: float32 noise below it would
# otherwise order equal texts by chance and lengthen the JSON.
DECIMALS: Final = 6


def item_text(item: Any) -> str:
    """A string as is; an object's `text`, else `content`, else `chunk` (the first that is a
    string), else the object as JSON with sorted keys; any other value as JSON."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in TEXT_KEYS:
            value = item.get(key)
            if isinstance(value, str):
                return value
    return json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def vector_list(vector: Vectors) -> list[float]:
    """A vector as the JSON list of floats a port carries (`DECIMALS` decimals)."""
    values: list[float] = np.round(vector.astype(np.float64), DECIMALS).tolist()
    return values


def unit_rows(rows: npt.ArrayLike) -> Vectors:
    """Rows scaled to length 1 as float32 (a zero row stays zero: it is similar to nothing)."""
    matrix = np.array(rows, dtype=np.float32, ndmin=2)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix


def given_embedding(item: Any, dimensions: int) -> Vectors | None:
    """An object's own `embedding`, normalised, when it is a list of `dimensions` finite numbers
    (a vector made by the same kind of model); None otherwise, and the item is embedded."""
    if not isinstance(item, dict):
        return None
    vector = item.get(EMBEDDING_KEY)
    if not isinstance(vector, list) or len(vector) != dimensions:
        return None
    if not all(
        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in vector
    ):
        return None
    return unit_rows(vector)[0]


def cosine_top_k(
    query: Vectors, items: Vectors, *, top_k: int, threshold: float | None = None
) -> list[tuple[int, float]]:
    """`(index, score)` of the items most similar to `query` (rows normalised), best first: score
    (to `DECIMALS` decimals) at least `threshold`, ties in the items' order, at most `top_k`."""
    if len(items) == 0 or top_k < 1:
        return []
    scores = np.round(np.clip((items @ query).astype(np.float64), -1.0, 1.0), DECIMALS)
    order = np.argsort(-scores, kind="stable")  # stable: equal scores keep the items' order
    if threshold is not None:
        order = order[scores[order] >= threshold]
    return [(int(index), float(scores[index])) for index in order[:top_k]]


async def embed_texts(
    embedder: Embedder,
    texts: Sequence[str],
    *,
    batch_size: int = 100,
    stopped: Callable[[], bool] = lambda: False,
    progress: Callable[[int], Awaitable[None]] | None = None,
) -> Vectors:
    """One normalised row per text. Each batch is embedded in a worker thread (CPU work, off the
    event loop); between batches `stopped()` is polled (when true: `asyncio.CancelledError`, as
    for a cancelled task) and `progress(texts done)` awaited."""
    rows = np.zeros((len(texts), embedder.dimensions), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        if stopped():
            raise asyncio.CancelledError
        batch = texts[start : start + batch_size]
        rows[start : start + len(batch)] = await asyncio.to_thread(
            embedder.embed, batch, batch_size=batch_size
        )
        if progress is not None:
            await progress(start + len(batch))
    return rows
