"""`embeddings`: texts in, vectors out, by a local model (`ctx.ai.embeddings`).

Input `texts`: a string (one vector), a list of strings (one vector each, in order), a list of
objects (each copied with an added `embedding`; its text is `text`, else `content`, else
`chunk`, else its JSON with sorted keys); a list mixing strings and objects is handled per
element. Vectors are lists of floats, 6 decimals.

`normalize`: the local models (model2vec) give unit-length vectors, so vectors are
L2-normalised whatever its value; it is accepted for configurations written for the platform.

The model is looked up and loaded off the event loop; texts are embedded in worker-thread
batches of `batch_size`, with item progress after each batch and a stop between batches when
the run is stopping. At most `embedding_max_texts` texts per block (`resource_limit`), and the
vectors' JSON is estimated against `max_value_bytes` before it is built.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ...ai.embeddings import DEFAULT_MODEL
from ...ai.similarity import EMBEDDING_KEY, Vectors, embed_texts, item_text, vector_list
from ...ai.types import AIError, Embedder
from ..budgets import format_bytes, json_size
from ..context import BlockContext
from ..errors import BlockError
from ..ports import Port
from ..registry import BlockType, block
from ..values import describe


def model_name_field() -> Any:
    return Field(
        default=DEFAULT_MODEL,
        min_length=1,
        max_length=200,
        description="A model in MODERATELY_EMBEDDING_MODEL_DIR or a name of the bundled model",
    )


def batch_size_field() -> Any:
    return Field(default=100, ge=1, le=1000, description="Texts embedded per batch")


class EmbeddingsConfig(BaseModel):
    model_config = ConfigDict(extra="allow", protected_namespaces=())

    model: str = model_name_field()
    batch_size: int = batch_size_field()
    normalize: bool = Field(default=True, description="L2-normalise the vectors")


# -- shared with semantic_filter ----------------------------------------------------------------


async def load_embedder(ctx: BlockContext, name: str) -> Embedder:
    """The model of that name, loaded in a worker thread; `embedding_model_unavailable`."""
    models = ctx.ai.embeddings
    try:
        return await asyncio.to_thread(models.get, name)
    except AIError as exc:
        raise BlockError(exc.error_type, exc.message) from None


def check_text_count(ctx: BlockContext, count: int) -> None:
    """`resource_limit` when a block would embed more texts than `embedding_max_texts`."""
    if count > ctx.budgets.embedding_max_texts:
        raise ctx.budgets.exceeded("embedding_max_texts", f"{count:,} texts to embed")


async def embed_with_progress(
    ctx: BlockContext, embedder: Embedder, texts: Sequence[str], batch_size: int
) -> Vectors:
    """`texts` embedded batch by batch, reporting `completed` of `total` items after each."""
    total = len(texts)
    await ctx.items_progress(total=total, completed=0)

    async def progress(done: int) -> None:
        await ctx.items_progress(total=total, completed=done)

    return await embed_texts(
        embedder, texts, batch_size=batch_size, stopped=ctx.cancelled, progress=progress
    )


def element_text(value: Any, port: str, index: int | None = None) -> str:
    """The text of a string or object on `port`; `invalid_input` for any other value."""
    if isinstance(value, str | dict):
        return item_text(value)
    where = f"'{port}'" if index is None else f"'{port}' item {index}"
    raise BlockError(
        "invalid_input", f"{where} must be a string or an object, got {describe(value)}"
    )


# -- the block --------------------------------------------------------------------------------


def _check_vector_bytes(ctx: BlockContext, vectors: Vectors) -> None:
    """The vectors' JSON, estimated from the first, against `max_value_bytes` (before a list of
    floats is built for each: that would cost far more memory than the JSON)."""
    if len(vectors) == 0:
        return
    estimate = len(vectors) * (json_size(vector_list(vectors[0])) + 1)
    if estimate > ctx.budgets.max_value_bytes:
        raise ctx.budgets.exceeded(
            "max_value_bytes",
            f"{len(vectors):,} vectors of {vectors.shape[1]} numbers are about "
            f"{format_bytes(estimate)} as JSON",
        )


@block("embeddings")
class Embeddings(BlockType[EmbeddingsConfig]):
    description = "Turn texts into vectors with a local embedding model."
    config_model = EmbeddingsConfig
    inputs = (Port("texts", required=True, primary=True),)
    outputs = (Port("embeddings", primary=True),)

    async def run(
        self, ctx: BlockContext, config: EmbeddingsConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        value = inputs.get("texts")
        if isinstance(value, str):
            elements: list[Any] = [value]
        elif isinstance(value, list):
            elements = value
        else:
            raise BlockError(
                "invalid_input",
                f"'texts' must be a string or a list of strings or objects, got {describe(value)}",
            )
        texts = [element_text(item, "texts", index) for index, item in enumerate(elements)]
        check_text_count(ctx, len(texts))
        embedder = await load_embedder(ctx, config.model)
        vectors = await embed_with_progress(ctx, embedder, texts, config.batch_size)
        _check_vector_bytes(ctx, vectors)
        if isinstance(value, str):
            return {"embeddings": vector_list(vectors[0])}
        out: list[Any] = []
        for item, vector in zip(elements, vectors, strict=True):
            as_list = vector_list(vector)
            out.append({**item, EMBEDDING_KEY: as_list} if isinstance(item, dict) else as_list)
        return {"embeddings": out}
