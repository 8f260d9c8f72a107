"""embeddings and semantic_filter (docs/reference/blocks.md) with the real bundled model on real
text: paraphrase retrieval, the input forms, top_k / threshold / ties, given embeddings, the
model directory and its path checks, budgets, progress and cancellation."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ai_blocks_helpers import feeding
from engine_helpers import assert_completed, conn, document, entry, out, run
from files_helpers import member
from pipelines_helpers import graph, start_configuration, wait_terminal

from moderately.ai import AIError, AIServices, ai_services
from moderately.ai.embeddings import BUNDLED_DIR, BUNDLED_MODEL, LocalEmbeddingModels
from moderately.ai.similarity import cosine_top_k, item_text, unit_rows
from moderately.config import Settings
from moderately.engine import configuration_json_schema
from moderately.engine.budgets import Budgets
from moderately.engine.progress import ExecutionProgress
from moderately.engine.testing import InMemoryContext
from moderately.testing import run_server

pytestmark = pytest.mark.anyio

# Distinct passages and a paraphrase of each (few words in common with its passage).
PASSAGES = [
    "The tenant must pay the rent on the first day of every month.",
    "Either party may terminate this agreement with thirty days' written notice.",
    "The supplier is not liable for indirect or consequential losses.",
    "All disputes shall be settled by arbitration in London.",
    "The recipe needs two cups of flour, one egg and a pinch of salt.",
    "Interest rates were raised by the central bank.",
    "Confidential information must not be disclosed to third parties.",
    "The goalkeeper saved a penalty in the final minute.",
]
PARAPHRASES = [
    "When is the monthly payment for the apartment due?",
    "How can the contract be ended?",
    "Is the vendor responsible for consequential damages?",
    "Where are conflicts between the parties resolved?",
    "What ingredients do I need to bake this?",
    "Did the central bank change borrowing costs?",
    "Can secret information be shared with others?",
    "Who stopped the penalty kick?",
]
DIMENSIONS = 256


def ai_with(model_dir: Path | None = None) -> AIServices:
    return ai_services(Settings(embedding_model_dir=model_dir))


def vector_of(text: str) -> list[float]:
    rows = LocalEmbeddingModels().get().embed([text])
    return [float(x) for x in rows[0]]


async def run_block_doc(
    block_type: str,
    config: dict[str, Any],
    feeds: dict[str, Any],
    outputs: tuple[str, ...],
    **kw: Any,
) -> Any:
    doc = feeding(entry("b", block_type, config), feeds, outputs)
    return await run(doc, **kw)


async def embed(texts: Any, **config: Any) -> Any:
    result = await run_block_doc("embeddings", config, {"texts": texts}, ("embeddings",))
    assert_completed(result)
    return result.output["embeddings"]


async def search(items: Any, query: Any, **config: Any) -> dict[str, Any]:
    result = await run_block_doc(
        "semantic_filter", config, {"items": items, "query": query}, ("items", "scores", "matches")
    )
    assert_completed(result)
    return result.output


# -- retrieval quality ----------------------------------------------------------------------


async def test_paraphrased_queries_find_their_passage_first() -> None:
    found = await search(PASSAGES, PARAPHRASES, top_k=1)
    assert found["items"] == [[passage] for passage in PASSAGES]
    assert [[match["index"] for match in hits] for hits in found["matches"]] == [
        [index] for index in range(len(PASSAGES))
    ]


async def test_a_passage_is_most_similar_to_itself() -> None:
    found = await search(PASSAGES, PASSAGES, top_k=1)
    assert [hits[0]["index"] for hits in found["matches"]] == list(range(len(PASSAGES)))
    assert all(scores[0] == pytest.approx(1.0, abs=1e-5) for scores in found["scores"])


# -- embeddings block -----------------------------------------------------------------------


async def test_one_string_gives_one_unit_vector() -> None:
    vector = await embed("The tenant must pay the rent.")
    assert isinstance(vector, list) and len(vector) == DIMENSIONS
    assert all(isinstance(x, float) for x in vector)
    assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-4)
    assert await embed("The tenant must pay the rent.") == vector
    assert await embed("A completely different sentence about trains.") != vector


async def test_a_list_of_strings_gives_vectors_in_order() -> None:
    vectors = await embed(PASSAGES[:3], batch_size=2)
    assert len(vectors) == 3
    singles = [await embed(text) for text in PASSAGES[:3]]
    assert vectors == singles
    assert await embed([]) == []


async def test_objects_are_copied_with_their_embedding() -> None:
    items = [
        {"id": 1, "text": "rent is due monthly"},
        {"id": 2, "content": "rent is due monthly"},
        {"id": 3, "chunk": "rent is due monthly", "page": 4},
        {"id": 4, "text": 12, "content": "rent is due monthly"},  # text not a string: next key
        {"b": "x", "a": ["y"]},
    ]
    embedded = await embed(items)
    reference = await embed("rent is due monthly")
    for item, result in zip(items, embedded, strict=True):
        assert {key: value for key, value in result.items() if key != "embedding"} == item
    assert [result["embedding"] for result in embedded[:4]] == [reference] * 4
    # no text key: the object as JSON with sorted keys, whatever its key order
    assert embedded[4]["embedding"] == await embed('{"a":["y"],"b":"x"}')
    assert embedded[4]["embedding"] == (await embed([{"a": ["y"], "b": "x"}]))[0]["embedding"]


async def test_a_mixed_list_is_handled_per_element() -> None:
    mixed = await embed(["rent is due monthly", {"text": "rent is due monthly"}])
    assert mixed[0] == mixed[1]["embedding"]


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (42, "'texts' must be a string or a list of strings or objects, got a number"),
        (None, "got null"),
        (["ok", 3], "'texts' item 1 must be a string or an object, got a number"),
        ([["nested"]], "'texts' item 0 must be a string or an object, got an array of 1"),
    ],
)
async def test_other_values_are_invalid_input(texts: Any, message: str) -> None:
    result = await run_block_doc("embeddings", {}, {"texts": texts}, ("embeddings",))
    assert result.status == "failed"
    assert result.error_type == "invalid_input" and message in (result.error or "")


async def test_long_texts_are_cut_not_refused() -> None:
    long_text = "The tenant must pay the rent on time. " * 50_000  # 1.9 MB
    vector = await embed(long_text)
    assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-4)


# -- semantic_filter ------------------------------------------------------------------------


async def test_top_k_keeps_the_best_in_score_order() -> None:
    found = await search(PASSAGES, "Who is liable for losses under the contract?", top_k=3)
    assert len(found["items"]) == len(found["scores"]) == len(found["matches"]) == 3
    assert found["scores"] == sorted(found["scores"], reverse=True)
    assert found["items"][0] == PASSAGES[2]
    for match, item, score in zip(found["matches"], found["items"], found["scores"], strict=True):
        assert match == {"index": PASSAGES.index(item), "score": score, "item": item}
    # every item's score, to compare with the threshold below
    everything = await search(PASSAGES, "Who is liable for losses under the contract?", top_k=100)
    assert len(everything["items"]) == len(PASSAGES)
    assert everything["scores"][:3] == found["scores"]


async def test_threshold_drops_items_below_it() -> None:
    query = "Who is liable for losses under the contract?"
    everything = await search(PASSAGES, query, top_k=100)
    cut = everything["scores"][2]
    kept = await search(PASSAGES, query, top_k=100, similarity_threshold=cut)
    assert kept["scores"] == [score for score in everything["scores"] if score >= cut]
    assert len(kept["scores"]) == 3
    none = await search(PASSAGES, query, similarity_threshold=1)
    assert none == {"items": [], "scores": [], "matches": []}


async def test_ties_keep_the_original_order() -> None:
    items = [
        {"id": "a", "text": "The train leaves at nine."},
        {"id": "b", "text": "Rent is due on the first day of the month."},
        {"id": "c", "text": "The train leaves at nine."},
        {"id": "d", "text": "Rent is due on the first day of the month."},
    ]
    found = await search(items, "When does the rent have to be paid?", top_k=4)
    assert [item["id"] for item in found["items"]] == ["b", "d", "a", "c"]
    assert found["scores"][0] == found["scores"][1] and found["scores"][2] == found["scores"][3]


async def test_a_list_of_queries_gives_one_result_per_query() -> None:
    queries = ["How can the contract be ended?", {"text": "Who stopped the penalty kick?"}]
    found = await search(PASSAGES, queries, top_k=2)
    assert [len(found[key]) for key in ("items", "scores", "matches")] == [2, 2, 2]
    assert found["items"][0][0] == PASSAGES[1] and found["items"][1][0] == PASSAGES[7]
    assert all(len(hits) == 2 for hits in found["matches"])
    assert await search(PASSAGES, [], top_k=2) == {"items": [], "scores": [], "matches": []}


async def test_many_queries_are_ranked_in_chunks() -> None:
    queries = [PARAPHRASES[index % len(PARAPHRASES)] for index in range(150)]
    found = await search(PASSAGES, queries, top_k=1)
    assert [hits[0]["index"] for hits in found["matches"]] == [
        index % len(PASSAGES) for index in range(150)
    ]


async def test_given_embeddings_are_used_as_they_are() -> None:
    rent = vector_of(PASSAGES[0])
    items = [
        # the text is about a train, the embedding about rent: the embedding decides
        {"text": "The train leaves at nine.", "embedding": rent},
        {"text": PASSAGES[3]},
        # wrong dimension: embedded from its text instead
        {"text": PASSAGES[4], "embedding": [0.5, 0.5]},
    ]
    found = await search(items, PARAPHRASES[0], top_k=3)
    assert found["matches"][0]["index"] == 0
    direct = await search([PASSAGES[0]], PARAPHRASES[0])
    assert found["scores"][0] == direct["scores"][0]
    assert found["items"][0] is not None and found["items"][0]["embedding"] == rent


async def test_embeddings_then_semantic_filter_reuses_the_vectors() -> None:
    doc = document(
        entry("passages", "constant", {"config_value": [{"text": p} for p in PASSAGES]}),
        entry("question", "constant", {"config_value": PARAPHRASES[6]}),
        entry("embed", "embeddings", {}),
        entry("find", "semantic_filter", {"top_k": 1}),
        out("best"),
        connections=[
            conn("passages", "embed", "data", "texts"),
            conn("embed", "find", "embeddings", "items"),
            conn("question", "find", "data", "query"),
            conn("find", "best", "matches", "data"),
        ],
    )
    # the filter embeds only the question, so a budget of the passages' count covers both blocks
    result = await run(doc, budgets=Budgets(embedding_max_texts=len(PASSAGES)))
    assert_completed(result)
    (match,) = result.output["best"]
    assert match["index"] == 6 and match["item"]["text"] == PASSAGES[6]
    assert result.progress_data["blocks"]["find"]["items_total"] == 1


@pytest.mark.parametrize(
    ("feeds", "message"),
    [
        ({"items": "one string", "query": "q"}, "'items' must be a list"),
        ({"items": ["a", 1], "query": "q"}, "'items' item 1 must be a string or an object"),
        ({"items": ["a"], "query": 5}, "'query' must be a string or an object, got a number"),
        ({"items": ["a"], "query": ["q", None]}, "'query' item 1 must be a string or an object"),
    ],
)
async def test_semantic_filter_invalid_input(feeds: dict[str, Any], message: str) -> None:
    result = await run_block_doc("semantic_filter", {}, feeds, ("items",))
    assert result.status == "failed" and result.error_type == "invalid_input"
    assert message in (result.error or "")


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"top_k": 0}, "top_k"),
        ({"top_k": 1001}, "top_k"),
        ({"similarity_threshold": 1.5}, "similarity_threshold"),
        ({"batch_size": 0}, "batch_size"),
        ({"filter_strategy": "bm25"}, "filter_strategy"),
        ({"embedding_model": ""}, "embedding_model"),
    ],
)
async def test_semantic_filter_config_bounds(config: dict[str, Any], field: str) -> None:
    result = await run_block_doc("semantic_filter", config, {"items": ["a"], "query": "q"}, ())
    assert result.status == "failed" and result.error_type == "invalid_pipeline_configuration"
    assert field in (result.error or "")


def test_the_configuration_schema_lists_both_blocks() -> None:
    definitions = configuration_json_schema()["definitions"]
    embeddings = definitions["config:embeddings"]["properties"]
    assert embeddings["model"]["default"] == "sentence-transformers/static-retrieval-mrl-en-v1"
    assert (embeddings["batch_size"]["minimum"], embeddings["batch_size"]["maximum"]) == (1, 1000)
    search = definitions["config:semantic_filter"]["properties"]
    assert search["top_k"]["default"] == 10 and search["top_k"]["maximum"] == 1000
    assert search["similarity_threshold"]["maximum"] == 1
    assert search["filter_strategy"]["const"] == "cosine_similarity_top_k"


# -- models ---------------------------------------------------------------------------------


async def test_unknown_model_is_unavailable() -> None:
    result = await run_block_doc(
        "embeddings", {"model": "acme/not-here"}, {"texts": "x"}, ("embeddings",)
    )
    assert result.status == "failed" and result.error_type == "embedding_model_unavailable"
    assert "'acme/not-here'" in (result.error or "")
    assert "MODERATELY_EMBEDDING_MODEL_DIR" in (result.error or "")


def test_names_of_the_bundled_model() -> None:
    models = LocalEmbeddingModels()
    default = models.get()
    assert default.name == BUNDLED_MODEL and default.dimensions == DIMENSIONS
    for name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", BUNDLED_MODEL):
        assert models.get(name) is default  # loaded once per process
    with pytest.raises(AIError) as caught:
        models.get("sentence-transformers/all-mpnet-base-v2")
    assert caught.value.error_type == "embedding_model_unavailable"
    assert "MODERATELY_EMBEDDING_MODEL_DIR is not set" in caught.value.message


def test_the_model_directory_is_looked_up_first(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_DIR, tmp_path / "acme" / "legal-static")
    shutil.copytree(BUNDLED_DIR, tmp_path / "sentence-transformers/static-retrieval-mrl-en-v1")
    models = LocalEmbeddingModels(tmp_path)
    own = models.get("acme/legal-static")
    assert own.name == "acme/legal-static" and own is models.get("acme/legal-static")
    overridden = models.get()  # the spec's default name, now provided in the directory
    assert overridden.name == "sentence-transformers/static-retrieval-mrl-en-v1"
    assert overridden is not LocalEmbeddingModels().get()
    assert np.allclose(own.embed(["rent"]), LocalEmbeddingModels().get().embed(["rent"]))
    # a name not in the directory still reaches the bundled model, others are unavailable
    assert models.get("all-MiniLM-L6-v2").name == BUNDLED_MODEL
    with pytest.raises(AIError) as caught:
        models.get("acme/other")
    assert f"no directory 'acme/other' in MODERATELY_EMBEDDING_MODEL_DIR ({tmp_path})" in (
        caught.value.message
    )


def test_a_broken_model_directory_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{")
    with pytest.raises(AIError) as caught:
        LocalEmbeddingModels(tmp_path).get("broken")
    assert caught.value.error_type == "embedding_model_unavailable"
    assert "could not be loaded" in caught.value.message


@pytest.mark.parametrize(
    "name", ["../outside", "/etc", "a/../../outside", "a//b", "./a", "a\\..\\b", "", "x" * 201]
)
def test_names_leaving_the_directory_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(AIError) as caught:
        LocalEmbeddingModels(tmp_path / "models").get(name)
    assert caught.value.error_type == "embedding_model_unavailable"
    assert "is not a model name" in caught.value.message


def test_a_symlink_out_of_the_directory_is_refused(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_DIR, tmp_path / "elsewhere")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "sneaky").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(AIError) as caught:
        LocalEmbeddingModels(tmp_path / "models").get("sneaky")
    assert caught.value.error_type == "embedding_model_unavailable"
    assert "outside MODERATELY_EMBEDDING_MODEL_DIR" in caught.value.message


async def test_blocks_use_the_runs_model_directory(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_DIR, tmp_path / "team-model")
    doc = feeding(
        entry("b", "semantic_filter", {"embedding_model": "team-model", "top_k": 1}),
        {"items": PASSAGES, "query": PARAPHRASES[1]},
        ("items",),
    )
    result = await run(doc, ai=ai_with(tmp_path))
    assert_completed(result)
    assert result.output["items"] == [PASSAGES[1]]
    failed = await run(doc)  # without that directory the name is unknown
    assert failed.error_type == "embedding_model_unavailable"


# -- budgets, progress, cancellation ---------------------------------------------------------


async def test_too_many_texts_is_a_resource_limit() -> None:
    result = await run_block_doc(
        "semantic_filter",
        {},
        {"items": PASSAGES, "query": "q"},
        ("items",),
        budgets=Budgets(embedding_max_texts=len(PASSAGES)),
    )
    assert result.status == "failed" and result.error_type == "resource_limit"
    assert "9 texts to embed, over the embedding text budget of 8" in (result.error or "")
    assert "MODERATELY_JOB_EMBEDDING_MAX_TEXTS" in (result.error or "")


async def test_vectors_over_the_value_budget_are_refused_before_they_are_built() -> None:
    texts = [f"passage number {index}" for index in range(400)]  # ~1 MiB of vectors as JSON
    result = await run_block_doc(
        "embeddings", {}, {"texts": texts}, ("embeddings",), budgets=Budgets(max_value_bytes=2**19)
    )
    assert result.status == "failed" and result.error_type == "resource_limit"
    assert "400 vectors of 256 numbers are about" in (result.error or "")
    assert "MODERATELY_JOB_MAX_VALUE_BYTES" in (result.error or "")


async def test_progress_counts_embedded_texts() -> None:
    ctx = InMemoryContext(keep_snapshots=True)
    doc = feeding(entry("b", "embeddings", {"batch_size": 3}), {"texts": PASSAGES}, ())
    assert_completed(await run(doc, ctx=ctx))
    counts = [
        (snapshot["blocks"]["b"].get("items_completed"), snapshot["blocks"]["b"].get("items_total"))
        for snapshot in ctx.snapshots
        if "items_total" in snapshot["blocks"]["b"]
    ]
    assert (3, 8) in counts and (6, 8) in counts and counts[-1] == (8, 8)


async def test_cancel_stops_between_batches() -> None:
    ctx = InMemoryContext()

    def cancel_after_two_batches(progress: ExecutionProgress) -> None:
        block = progress.blocks["b"]
        if progress.last_event.kind == "items" and (block.items_completed or 0) >= 2:
            ctx.cancel()

    ctx.on_progress = cancel_after_two_batches
    texts = [f"text {index}" for index in range(200)]
    doc = feeding(entry("b", "embeddings", {"batch_size": 1}), {"texts": texts}, ())
    result = await run(doc, ctx=ctx)
    assert result.status == "cancelled"
    block = result.progress_data["blocks"]["b"]
    assert block["status"] == "cancelled" and block["items_completed"] < 200


# -- the shared helpers (ai/similarity.py) ---------------------------------------------------


def test_item_text_and_cosine_top_k() -> None:
    assert item_text("plain") == "plain"
    assert item_text({"content": "c", "chunk": "k"}) == "c"
    assert item_text({"z": 1, "a": "é"}) == '{"a":"é","z":1}'
    rows = unit_rows([[1, 0], [0, 1], [1, 1], [1, 0], [0, 0]])
    assert rows[4].tolist() == [0.0, 0.0]  # a zero vector stays zero
    hits = cosine_top_k(unit_rows([[1, 0]])[0], rows, top_k=3)
    assert hits == [(0, 1.0), (3, 1.0), (2, pytest.approx(0.707107))]
    assert cosine_top_k(unit_rows([[1, 0]])[0], rows, top_k=9, threshold=0.5) == hits


# -- through the server ----------------------------------------------------------------------


async def test_a_pipeline_through_the_server_and_its_workers(tmp_path: Path) -> None:
    """input -> embeddings -> semantic_filter -> output, run by a worker process with a model
    from the server's MODERATELY_EMBEDDING_MODEL_DIR."""
    shutil.copytree(BUNDLED_DIR, tmp_path / "models" / "acme" / "legal-static")
    configuration = graph(
        {
            "passages": ("input", {"json_schema": {"type": "array", "items": {"type": "object"}}}),
            "question": ("input", {"json_schema": {"type": "string"}}),
            "embed": ("embeddings", {"model": "acme/legal-static", "batch_size": 4}),
            "find": ("semantic_filter", {"embedding_model": "acme/legal-static", "top_k": 2}),
            "best": ("output", {"name": "best"}),
        },
        [
            ("passages", "data", "embed", "texts"),
            ("embed", "embeddings", "find", "items"),
            ("question", "data", "find", "query"),
            ("find", "matches", "best", "data"),
        ],
    )
    with run_server(
        data_dir=tmp_path / "data", workers=1, embedding_model_dir=tmp_path / "models"
    ) as server:
        async with member(server) as alice:
            execution_id = await start_configuration(
                alice.client,
                configuration,
                {"passages": [{"text": text} for text in PASSAGES], "question": PARAPHRASES[3]},
                "semantic search",
            )
            done = await wait_terminal(alice.client, execution_id, timeout=120)
            assert done["status"] == "completed", done["progressData"]
            output = await alice.client.get(f"/pipeline-executions/{execution_id}/output")
    best = output.json()["data"]["best"]
    assert len(best) == 2 and best[0]["index"] == 3 and best[0]["score"] > best[1]["score"]
    assert best[0]["item"]["text"] == PASSAGES[3]
    assert len(best[0]["item"]["embedding"]) == DIMENSIONS
