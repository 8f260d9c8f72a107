"""Per-job budgets: each one trips with `resource_limit` and a message naming it and its setting,
values just under a budget pass, and hostile configurations fail early."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from typing import Any

import pytest
from engine_helpers import (
    PROBE,
    ProbeLog,
    assert_completed,
    conn,
    document,
    entry,
    inp,
    out,
    run,
)

from moderately.engine import BlockContext, Budgets, ResourceLimitError, RunResult
from moderately.engine.budgets import (
    LABELS,
    SETTINGS,
    KiB,
    MiB,
    format_bytes,
    json_size,
    text_bytes,
)
from moderately.engine.context import RunState
from moderately.engine.progress import ExecutionProgress
from moderately.engine.registry import get_block_type
from moderately.engine.testing import InMemoryContext

pytestmark = pytest.mark.anyio


def assert_limit(result: RunResult, block_id: str, budget: str, *fragments: str) -> str:
    """The run failed in `block_id` on `budget`; returns the error message."""
    assert result.status == "failed", result.status
    data = result.progress_data
    assert result.error_type == data["error_type"] == "resource_limit", data.get("errors")
    assert result.failed_block == data["failed_block"] == block_id
    assert data["blocks"][block_id]["error_type"] == "resource_limit"
    error = data["error"]
    assert error == result.error
    assert SETTINGS[budget] in error and LABELS[budget] in error, error
    for fragment in fragments:
        assert fragment in error, error
    return str(error)


async def run_block_within(
    type_name: str,
    config: dict[str, Any],
    inputs: dict[str, Any],
    budgets: Budgets,
    ctx: InMemoryContext | None = None,
) -> dict[str, Any]:
    block_type = get_block_type(type_name)
    state = RunState(ctx or InMemoryContext(), ExecutionProgress([("b", type_name, None)]), {})
    state.budgets = budgets
    block_ctx = BlockContext(state, "b", type_name)
    return await block_type.run(block_ctx, block_type.parse_config(config), inputs)


# -- the Budgets object -------------------------------------------------------------------------


def test_defaults_fields_and_settings() -> None:
    budgets = Budgets()
    assert budgets.max_value_bytes == 64 * MiB
    assert budgets.max_output_bytes == 256 * MiB
    assert budgets.map_max_items == 100_000
    assert budgets.map_max_concurrency == 16
    assert budgets.template_max_output_bytes == 8 * MiB
    assert budgets.pdf_max_pages == 2_000
    assert budgets.pdf_max_text_bytes == 64 * MiB
    assert budgets.pdf_max_inflated_bytes == 256 * MiB
    assert budgets.pdf_max_page_objects == 200_000
    assert budgets.join_max_rows == 1_000_000
    assert SETTINGS["max_value_bytes"] == "MODERATELY_JOB_MAX_VALUE_BYTES"
    assert SETTINGS["pdf_max_inflated_bytes"] == "MODERATELY_JOB_PDF_MAX_INFLATED_BYTES"
    assert set(SETTINGS) == set(LABELS) == set(Budgets.__dataclass_fields__)
    with pytest.raises(AttributeError):
        budgets.map_max_items = 1  # type: ignore[misc]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_budgets_must_be_positive_integers(bad: Any) -> None:
    with pytest.raises(ValueError, match="map_max_items"):
        Budgets(map_max_items=bad)


def test_from_settings() -> None:
    class Settings:
        job_max_value_bytes = 1000
        job_map_max_items = 7
        job_memory_bytes = 5  # not a budget: ignored

    budgets = Budgets.from_settings(Settings())
    assert (budgets.max_value_bytes, budgets.map_max_items) == (1000, 7)
    assert budgets.join_max_rows == 1_000_000
    assert Budgets.from_settings({"job_pdf_max_pages": 3}).pdf_max_pages == 3


def test_error_message_format() -> None:
    error = Budgets().exceeded("template_max_output_bytes", "rendered text is 16.0 MiB")
    assert isinstance(error, ResourceLimitError)
    assert error.error_type == "resource_limit"
    assert error.setting == "MODERATELY_JOB_TEMPLATE_MAX_OUTPUT_BYTES"
    assert error.message == (
        "rendered text is 16.0 MiB, over the template output budget of 8.0 MiB "
        "(MODERATELY_JOB_TEMPLATE_MAX_OUTPUT_BYTES)"
    )
    counted = Budgets().exceeded("map_max_items", "the input array has 2,000,000 items")
    assert counted.message.endswith(
        "over the map item budget of 100,000 (MODERATELY_JOB_MAP_MAX_ITEMS)"
    )
    assert format_bytes(512) == "512 B" and format_bytes(1536) == "1.5 KiB"


# -- measuring ----------------------------------------------------------------------------------


def test_json_size_matches_compact_json() -> None:
    value = {
        "text": "héllo wörld ✓",
        "n": [1, -20, 3.5, 1e100, True, False, None, 10**14],
        "rows": [{"id": str(i), "price": i * 1.25} for i in range(100)],
        "empty": {"list": [], "object": {}, "string": ""},
    }
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    assert json_size(value) == len(encoded)
    assert abs(json_size(10**30) - 31) <= 2  # very large integers are estimated
    assert text_bytes("✓" * (3 << 20)) == 9 << 20  # measured a slice at a time


def test_json_size_stops_at_the_limit() -> None:
    big = "x" * MiB
    shared = [big] * 100_000  # 100 GiB as JSON; held in memory as 100,000 references
    size = json_size(shared, 10 * MiB)
    assert 10 * MiB < size <= 11 * MiB + 16


# -- value size between blocks and the pipeline output ------------------------------------------


def constant_to_output(value: Any) -> dict[str, Any]:
    return document(
        entry("c", "constant", {"config_value": value}), out("o"), connections=[conn("c", "o")]
    )


async def test_value_over_max_value_bytes_fails_the_producing_block() -> None:
    budgets = Budgets(max_value_bytes=KiB)
    result = await run(constant_to_output("x" * 1100), budgets=budgets)
    message = assert_limit(
        result, "c", "max_value_bytes", "output 'data' is at least 1.1 KiB", "of 1.0 KiB"
    )
    assert message.startswith("Block 'c' (constant) failed: ")
    assert result.progress_data["blocks"]["o"]["status"] == "pending"


async def test_value_just_under_max_value_bytes_passes() -> None:
    value = "x" * (KiB - 2)  # 1024 bytes with its quotes
    result = await run(constant_to_output(value), budgets=Budgets(max_value_bytes=KiB))
    assert_completed(result)
    assert result.output == {"o": value}


async def test_pipeline_output_over_max_output_bytes() -> None:
    doc = document(
        entry("c", "constant", {"config_value": "y" * 600}),
        out("first"),
        out("second"),
        connections=[conn("c", "first"), conn("c", "second")],
    )
    result = await run(doc, budgets=Budgets(max_output_bytes=KiB))
    assert_limit(result, "second", "max_output_bytes", "with output 'second'")
    result = await run(doc, budgets=Budgets(max_output_bytes=2 * KiB))
    assert_completed(result)
    assert len(json.dumps(result.output, separators=(",", ":"))) <= 2 * KiB


async def test_default_budgets_apply_without_a_budgets_argument() -> None:
    result = await run(constant_to_output("z" * 10))
    assert_completed(result)


# -- templates ----------------------------------------------------------------------------------


def doubling_chain(steps: int) -> dict[str, Any]:
    """input -> tpl1 -> ... -> tplN -> output, every template `{{data}}{{data}}`."""
    blocks = [inp("in", {"type": "string"})]
    connections = []
    previous = "in"
    for step in range(1, steps + 1):
        blocks.append(entry(f"tpl{step}", "string_template", {"template": "{{data}}{{data}}"}))
        connections.append(conn(previous, f"tpl{step}"))
        previous = f"tpl{step}"
    blocks.append(out("o"))
    connections.append(conn(previous, "o"))
    return document(*blocks, connections=connections)


async def test_template_doubling_chain_fails_early_without_building_the_text() -> None:
    # 2 bytes doubled 40 times would be 2 TiB; the budget (8 MiB) is passed at step 23.
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = await run(doubling_chain(40), {"in": "ab"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = assert_limit(
        result,
        "tpl23",
        "template_max_output_bytes",
        "Block 'tpl23' (string_template) failed: rendered text is at least 16.0 MiB, over the "
        "template output budget of 8.0 MiB (MODERATELY_JOB_TEMPLATE_MAX_OUTPUT_BYTES)",
    )
    assert message
    blocks = result.progress_data["blocks"]
    assert all(blocks[f"tpl{step}"]["status"] == "completed" for step in range(1, 23))
    assert all(blocks[f"tpl{step}"]["status"] == "pending" for step in range(24, 41))
    # the largest text built is tpl22's 8 MiB (no 16 MiB text was assembled); copies between
    # blocks share strings, so the run never held much more than that
    assert peak < 40 * MiB, peak


async def test_template_chain_just_under_the_budget_passes() -> None:
    # 2 bytes doubled 9 times = 1024 bytes, exactly the budget
    result = await run(
        doubling_chain(9), {"in": "ab"}, budgets=Budgets(template_max_output_bytes=KiB)
    )
    assert_completed(result)
    assert result.output == {"o": "ab" * 512}
    result = await run(
        doubling_chain(10), {"in": "ab"}, budgets=Budgets(template_max_output_bytes=KiB)
    )
    assert_limit(result, "tpl10", "template_max_output_bytes", "at least 2.0 KiB")


async def test_template_non_string_value_is_measured_before_it_is_encoded() -> None:
    budgets = Budgets(template_max_output_bytes=KiB)
    rows = [{"id": i} for i in range(1000)]  # about 10 KiB as JSON
    with pytest.raises(ResourceLimitError) as raised:
        await run_block_within(
            "string_template", {"template": "rows: {{data}}"}, {"data": rows}, budgets
        )
    assert raised.value.budget == "template_max_output_bytes"
    small = await run_block_within(
        "string_template", {"template": "rows: {{data}}"}, {"data": rows[:50]}, budgets
    )
    assert small["data"].startswith('rows: [{"id":0}')


async def test_json_template_whole_placeholders_are_counted() -> None:
    budgets = Budgets(template_max_output_bytes=64 * KiB)
    data = "d" * (10 * KiB)
    template = {"copies": ["{{data}}"] * 10}
    with pytest.raises(ResourceLimitError) as raised:
        await run_block_within("json_template", {"template": template}, {"data": data}, budgets)
    assert "rendered value is at least" in raised.value.message
    fits = await run_block_within(
        "json_template", {"template": {"copies": ["{{data}}"] * 6}}, {"data": data}, budgets
    )
    assert fits["data"] == {"copies": [data] * 6}


# -- map ----------------------------------------------------------------------------------------


def mapped(items_block: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    return document(
        items_block,
        entry("m", "map", config),
        out("o"),
        connections=[conn(items_block["id"], "m"), conn("m", "o")],
    )


async def test_map_over_two_million_items_fails_at_once(probe_log: ProbeLog) -> None:
    doc = mapped(inp("items", {"type": "array"}), {"target_block_type": PROBE})
    result = await run(doc, {"items": list(range(2_000_000))})
    assert_limit(
        result,
        "m",
        "map_max_items",
        "the input array has 2,000,000 items, over the map item budget of 100,000 "
        "(MODERATELY_JOB_MAP_MAX_ITEMS)",
    )
    assert probe_log.started == []
    assert "items_total" not in result.progress_data["blocks"]["m"]


async def test_map_item_count_just_under_the_budget(probe_log: ProbeLog) -> None:
    doc = mapped(inp("items", {"type": "array"}), {"target_block_type": PROBE})
    result = await run(doc, {"items": list(range(50))}, budgets=Budgets(map_max_items=50))
    assert_completed(result)
    result = await run(doc, {"items": list(range(51))}, budgets=Budgets(map_max_items=50))
    assert_limit(result, "m", "map_max_items", "has 51 items")


async def test_map_concurrency_is_capped(probe_log: ProbeLog) -> None:
    config = {"target_block_type": PROBE, "target_config": {"delay": 0.002}, "max_concurrency": 12}
    doc = mapped(entry("items", "constant", {"config_value": list(range(60))}), config)
    result = await run(doc, budgets=Budgets(map_max_concurrency=3))
    assert_completed(result)
    assert probe_log.peak == 3


async def test_map_results_are_bounded_as_they_arrive() -> None:
    template = "{{data}}" * 10
    config = {"target_block_type": "string_template", "target_config": {"template": template}}
    items = ["r" * 10 for _ in range(50)]  # 50 results of 102 bytes
    doc = mapped(entry("items", "constant", {"config_value": items}), config)
    result = await run(doc, budgets=Budgets(max_value_bytes=2 * KiB))
    assert_limit(result, "m", "max_value_bytes", "the results are at least", "of 50 items")
    assert result.progress_data["blocks"]["m"]["items_completed"] < 20


async def test_map_item_over_a_budget_keeps_resource_limit() -> None:
    config = {"target_block_type": "string_template", "target_config": {"template": "{{data}}!"}}
    doc = mapped(entry("items", "constant", {"config_value": ["a", "b" * 2000]}), config)
    result = await run(doc, budgets=Budgets(template_max_output_bytes=KiB))
    assert_limit(result, "m", "template_max_output_bytes", "item 1 (m[1]): rendered text")


# -- join, text_splitter, zip, transform --------------------------------------------------------


def join_document(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> dict[str, Any]:
    config = {
        "base_dataset": "L",
        "joins": [{"dataset": "R", "left_key": "k", "right_key": "k"}],
        "output_columns": [
            {"name": "a", "source": "L.a", "type": "integer"},
            {"name": "b", "source": "R.b", "type": "integer"},
        ],
    }
    return document(
        entry("left", "constant", {"config_value": left}),
        entry("right", "constant", {"config_value": right}),
        entry("j", "join", config),
        out("o"),
        connections=[
            conn("left", "j", "data", "L"),
            conn("right", "j", "data", "R"),
            conn("j", "o"),
        ],
    )


async def test_join_explosion_stops_at_the_row_budget() -> None:
    # every row has the same key: 2,000 x 2,000 = 4,000,000 rows
    left = [{"k": 1, "a": i} for i in range(2000)]
    right = [{"k": 1, "b": i} for i in range(2000)]
    result = await run(join_document(left, right), budgets=Budgets(join_max_rows=100_000))
    assert_limit(result, "j", "join_max_rows", "the join would have 102,000 rows or more")


async def test_join_just_under_the_row_budget() -> None:
    left = [{"k": 1, "a": i} for i in range(100)]
    right = [{"k": 1, "b": i} for i in range(100)]
    result = await run(join_document(left, right), budgets=Budgets(join_max_rows=10_000))
    assert_completed(result)
    assert len(result.output["o"]) == 10_000  # type: ignore[index]


async def test_join_size_estimate_uses_max_value_bytes() -> None:
    left = [{"k": i % 10, "a": i, "pad": "p" * 50} for i in range(200)]
    right = [{"k": i % 10, "b": i, "pad": "q" * 50} for i in range(200)]
    result = await run(join_document(left, right), budgets=Budgets(max_value_bytes=256 * KiB))
    assert_limit(result, "j", "max_value_bytes", "the join would be about")


async def test_text_splitter_overlap_amplification_is_bounded() -> None:
    text = " ".join(f"w{i % 10}" for i in range(10_000))  # 30 KB
    config = {"chunk_size": 200, "chunk_overlap": 195}
    budgets = Budgets(max_value_bytes=256 * KiB)
    with pytest.raises(ResourceLimitError) as raised:
        await run_block_within("text_splitter", config, {"text": text}, budgets)
    assert raised.value.budget == "max_value_bytes"
    assert "chunk_details is at least" in raised.value.message
    outputs = await run_block_within(
        "text_splitter", {"chunk_size": 200, "chunk_overlap": 0}, {"text": text}, budgets
    )
    assert "".join(outputs["chunks"]).replace(" ", "") == text.replace(" ", "")


async def test_zip_broadcast_repetition_is_bounded() -> None:
    wide = {f"key{i}": "v" * 10 for i in range(50)}  # about 1 KiB
    budgets = Budgets(max_value_bytes=64 * KiB)
    inputs = {"rows": [{"n": i} for i in range(1000)], "common": wide}
    with pytest.raises(ResourceLimitError) as raised:
        await run_block_within("zip", {}, inputs, budgets)
    assert "for 1,000 elements" in raised.value.message
    small = {"rows": [{"n": i} for i in range(30)], "common": wide}
    assert len((await run_block_within("zip", {}, small, budgets))["data"]) == 30


async def test_transform_format_doubling_fails_inside_the_block() -> None:
    operations = [{"type": "format", "template": "{{item}}{{item}}"} for _ in range(30)]
    budgets = Budgets(template_max_output_bytes=KiB)
    with pytest.raises(ResourceLimitError) as raised:
        await run_block_within("transform", {"operations": operations}, {"data": "ab"}, budgets)
    assert raised.value.message.startswith("operation 9 (format): rendered text is at least")
    assert raised.value.setting == "MODERATELY_JOB_TEMPLATE_MAX_OUTPUT_BYTES"


async def test_transform_merge_into_many_elements_fails_before_copying() -> None:
    operations = [{"type": "merge", "value": {"blob": "b" * 1000}}]
    budgets = Budgets(max_value_bytes=64 * KiB)
    rows = [{"n": i} for i in range(1000)]
    with pytest.raises(ResourceLimitError) as raised:
        await run_block_within("transform", {"operations": operations}, {"data": rows}, budgets)
    assert raised.value.message.startswith("operation 0 (merge): copying its value")
    fits = await run_block_within(
        "transform", {"operations": operations}, {"data": rows[:20]}, budgets
    )
    assert len(fits["data"]) == 20


# -- long synchronous loops stay cancellable ----------------------------------------------------


async def loop_turns_during(doc: dict[str, Any], block_id: str) -> tuple[RunResult, int]:
    """Run `doc` next to a task that counts turns of the event loop; returns how many turns it
    got while `block_id` ran. A block that never yields lets it run only a couple of times."""
    ctx = InMemoryContext()
    ticks = 0
    marks: dict[str, int] = {}
    done = False

    def hook(progress: ExecutionProgress) -> None:
        event = progress.last_event
        if event.block_id == block_id:
            marks.setdefault(event.kind, ticks)

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0)

    ctx.on_progress = hook
    counting = asyncio.create_task(ticker())
    try:
        result = await run(doc, ctx=ctx)
    finally:
        done = True
        await counting
    return result, marks["block_completed"] - marks["block_started"]


def fast_items_map(count: int) -> dict[str, Any]:
    config = {
        "target_block_type": "string_template",
        "target_config": {"template": "<{{data}}>"},
        "max_concurrency": 1,
    }
    return mapped(entry("items", "constant", {"config_value": list(range(count))}), config)


async def test_map_of_fast_items_yields_to_the_event_loop() -> None:
    result, turns = await loop_turns_during(fast_items_map(20_000), "m")
    assert_completed(result)
    assert turns >= 20_000 // 32 - 10


async def test_map_of_fast_items_can_be_cancelled_midway() -> None:
    ctx = InMemoryContext()

    async def cancel_once_items_run() -> None:
        while ctx.last_progress is None or not ctx.last_progress.blocks["m"].items_completed:
            await asyncio.sleep(0)
        ctx.cancel()

    cancelling = asyncio.create_task(cancel_once_items_run())
    result = await run(fast_items_map(50_000), ctx=ctx)
    await cancelling
    assert result.status == "cancelled"
    assert result.progress_data["blocks"]["m"]["items_completed"] < 1000


async def test_join_yields_to_the_event_loop() -> None:
    left = [{"k": i, "a": i} for i in range(30_000)]
    right = [{"k": i, "b": i} for i in range(30_000)]
    result, turns = await loop_turns_during(join_document(left, right), "j")
    assert_completed(result)
    assert turns >= 20  # 15 in the join loop, 14 in the projection


async def test_zip_yields_to_the_event_loop() -> None:
    doc = document(
        entry("a", "constant", {"config_value": list(range(50_000))}),
        entry("z", "zip", {"combine_strategy": "create_array"}),
        out("o"),
        connections=[
            conn("a", "z", "data", "first"),
            conn("a", "z", "data", "second"),
            conn("z", "o"),
        ],
    )
    result, turns = await loop_turns_during(doc, "z")
    assert_completed(result)
    assert turns >= 10


async def test_transform_on_a_large_list_runs_off_the_event_loop() -> None:
    rows = [{"n": i, "s": str(i)} for i in range(100_000)]
    operation = {"type": "sort", "field": "s", "direction": "desc"}
    doc = document(
        entry("c", "constant", {"config_value": rows}),
        entry("t", "transform", {"operations": [operation] * 2}),
        out("o"),
        connections=[conn("c", "t"), conn("t", "o")],
    )
    result, turns = await loop_turns_during(doc, "t")
    assert_completed(result)
    assert turns >= 50
