"""The map block: order, exact max_concurrency, broadcast ports, failures, nesting."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from engine_helpers import PROBE, ProbeLog, assert_completed, conn, document, entry, out, run

from moderately.engine.progress import ExecutionProgress
from moderately.engine.testing import InMemoryContext

pytestmark = pytest.mark.anyio


def mapped(config: dict[str, Any], items: Any, **broadcast: Any) -> dict[str, Any]:
    blocks = [
        entry("items", "constant", {"config_value": items}),
        entry("m", "map", config),
        out("o"),
    ]
    connections = [conn("items", "m"), conn("m", "o")]
    for port, value in broadcast.items():
        blocks.append(entry(f"b_{port}", "constant", {"config_value": value}))
        connections.append(conn(f"b_{port}", "m", "data", port))
    return document(*blocks, connections=connections)


@pytest.mark.parametrize("limit", [1, 3, 7.9])
async def test_max_concurrency_is_exact_over_1000_items(probe_log: ProbeLog, limit: float) -> None:
    items = list(range(1000))
    doc = mapped(
        {"target_block_type": PROBE, "target_config": {"delay": 0.0005}, "max_concurrency": limit},
        items,
    )
    result = await run(doc)
    assert_completed(result)
    assert result.output == {"o": items}
    assert probe_log.peak == int(limit)
    assert len(probe_log.started) == 1000
    assert probe_log.started[:3] == ["m[0]", "m[1]", "m[2]"]
    block = result.progress_data["blocks"]["m"]
    assert (block["items_total"], block["items_completed"]) == (1000, 1000)


async def test_default_concurrency_is_five(probe_log: ProbeLog) -> None:
    doc = mapped({"target_block_type": PROBE, "target_config": {"delay": 0.005}}, list(range(40)))
    assert_completed(await run(doc))
    assert probe_log.peak == 5


async def test_results_keep_input_order_when_items_finish_out_of_order() -> None:
    doc = mapped(
        {
            "target_block_type": "string_template",
            "target_config": {"template": "<{{data}}>"},
            "max_concurrency": 10,
        },
        ["a", "b", "c"],
    )
    assert (await run(doc)).output == {"o": ["<a>", "<b>", "<c>"]}


async def test_broadcast_ports() -> None:
    doc = mapped(
        {
            "target_block_type": "string_template",
            "target_config": {"template": "{{greeting}}, {{name}}!"},
        },
        [{"name": "Ann"}, {"name": "Bo"}],
        greeting="Hi",
    )
    assert (await run(doc)).output == {"o": ["Hi, Ann!", "Hi, Bo!"]}


async def test_empty_array_runs_nothing(probe_log: ProbeLog) -> None:
    result = await run(mapped({"target_block_type": PROBE}, []))
    assert result.output == {"o": []}
    assert probe_log.started == []


async def test_input_not_an_array() -> None:
    result = await run(mapped({"target_block_type": "identity"}, {"a": 1}))
    assert result.error_type == "map_input_not_array"
    assert "'data' must be an array, got an object" in (result.error or "")


async def test_first_failure_fails_the_map_and_stops_the_rest(probe_log: ProbeLog) -> None:
    doc = mapped(
        {
            "target_block_type": "transform",
            "target_config": {"operations": [{"type": "count"}]},
            "max_concurrency": 2,
        },
        ["ab", [1, 2], 7, "c", "d"],
    )
    result = await run(doc)
    assert result.status == "failed"
    assert result.failed_block == "m"
    assert result.error_type == "map_item_failed"
    assert result.error == (
        "Block 'm' (map) failed: item 2 (m[2]) failed: transform_type_error: "
        "operation 0 (count): count needs a list, a string or an object, got a number"
    )


async def test_failure_cancels_running_items(probe_log: ProbeLog) -> None:
    doc = mapped(
        {"target_block_type": PROBE, "target_config": {"delay": 0.05, "crash": True}},
        list(range(20)),
    )
    started = time.monotonic()
    result = await run(doc)
    assert time.monotonic() - started < 1
    assert result.error_type == "map_item_failed"
    assert "item 0 (m[0]) failed: internal_error: an internal error (RuntimeError)" in (
        result.error or ""
    )
    assert "boom" not in (result.error or "")
    assert len(probe_log.started) == 5  # the first wave; nothing started after the failure


async def test_cancel_stops_items(probe_log: ProbeLog) -> None:
    ctx = InMemoryContext()

    def cancel_midway(progress: ExecutionProgress) -> None:
        block = progress.blocks["m"]
        if progress.last_event.kind == "items" and (block.items_completed or 0) >= 4:
            ctx.cancel()

    ctx.on_progress = cancel_midway
    doc = mapped(
        {"target_block_type": PROBE, "target_config": {"delay": 0.01}, "max_concurrency": 2},
        list(range(100)),
    )
    result = await run(doc, ctx=ctx)
    assert result.status == "cancelled"
    assert len(probe_log.started) <= 8
    assert result.progress_data["blocks"]["m"]["status"] == "cancelled"


async def test_nested_map() -> None:
    doc = mapped(
        {
            "target_block_type": "map",
            "target_config": {
                "target_block_type": "transform",
                "target_config": {"operations": [{"type": "wrap", "key": "v"}]},
            },
        },
        [[1, 2], [], [3]],
    )
    assert (await run(doc)).output == {"o": [[{"v": 1}, {"v": 2}], [], [{"v": 3}]]}


async def test_map_over_text_splitter_uses_target_defaults() -> None:
    doc = mapped(
        {
            "target_block_type": "text_splitter",
            "target_config": {"chunk_size": 5, "chunk_overlap": 0},
        },
        ["aaa bbb ccc", "dd"],
    )
    assert (await run(doc)).output == {"o": [["aaa", "bbb", "ccc"], ["dd"]]}


async def test_warnings_of_items_name_the_item() -> None:
    doc = mapped(
        {"target_block_type": "string_template", "target_config": {"template": "{{missing}}"}},
        [1, 2],
    )
    result = await run(doc)
    assert result.progress_data["warnings"] == [
        "m[0]: unresolved placeholder {{missing}} left as is",
        "m[1]: unresolved placeholder {{missing}} left as is",
    ]


async def test_items_run_concurrently_in_time(probe_log: ProbeLog) -> None:
    doc = mapped(
        {"target_block_type": PROBE, "target_config": {"delay": 0.1}, "max_concurrency": 10},
        list(range(10)),
    )
    started = time.monotonic()
    assert_completed(await run(doc))
    assert time.monotonic() - started < 0.8  # sequential: 1.0
    await asyncio.sleep(0)
