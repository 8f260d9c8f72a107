"""run_pipeline: the echo pipeline, scheduling, copies, progress, failure, cancel, pause, inputs."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from engine_helpers import (
    ProbeLog,
    assert_completed,
    conn,
    document,
    entry,
    inp,
    out,
    probe,
    run,
)
from pipelines_helpers import echo_configuration

from moderately.engine import (
    InvalidPipelineInput,
    compile_pipeline,
    output_summary,
    prepare_inputs,
    run_pipeline,
)
from moderately.engine.progress import ExecutionProgress
from moderately.engine.testing import InMemoryContext

pytestmark = pytest.mark.anyio

MESSAGE = "Hello from the Moderately AI SDK pipeline example!"


# -- the echo pipeline ----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "_async"])
async def test_echo_pipeline_end_to_end(suffix: str) -> None:
    ctx = InMemoryContext(keep_snapshots=True)
    result = await run_pipeline(
        echo_configuration(f"echo_demo{suffix}"), {"user_input": MESSAGE}, ctx
    )
    assert_completed(result)
    assert result.output == {"echoed_message": MESSAGE}
    assert result.output_summary == f"echoed_message: {MESSAGE}"
    assert (result.current_step, result.total_steps) == (2, 2)
    assert result.error is None and result.errors == []
    assert result.started_at <= result.finished_at
    data = result.progress_data
    assert data["status"] == "completed"
    assert data["message"].startswith("Completed in ")
    assert data["completed_blocks"] == ["user_input", "echo_result"]
    assert data["running_blocks"] == []
    assert {b["status"] for b in data["blocks"].values()} == {"completed"}
    assert "error" not in data and "errors" not in data
    json.dumps(data)
    kinds = [(event.kind, event.block_id) for event in ctx.events]
    assert kinds == [
        ("started", None),
        ("block_started", "user_input"),
        ("block_completed", "user_input"),
        ("block_started", "echo_result"),
        ("block_completed", "echo_result"),
    ]
    running = ctx.snapshots[1]
    assert running["message"] == "Running 'user_input' (input), step 1 of 2"
    assert running["current_block"] == "user_input"
    assert running["running_blocks"] == ["user_input"]
    assert running["blocks"]["user_input"]["status"] == "running"
    assert running["blocks"]["echo_result"]["status"] == "pending"


async def test_a_plan_is_reusable() -> None:
    plan = compile_pipeline(echo_configuration())
    first = await run_pipeline(plan, {"user_input": "one"}, InMemoryContext())
    second = await run_pipeline(plan, {"user_input": "two"}, InMemoryContext())
    assert (first.output, second.output) == ({"echoed_message": "one"}, {"echoed_message": "two"})


# -- order and concurrency ------------------------------------------------------------------


def diamond() -> dict[str, Any]:
    """c feeds a and b (fan-out); a, b feed z (fan-in); e is independent."""
    return document(
        entry("z", "zip", {"combine_strategy": "create_array"}),
        probe("a"),
        entry("c", "constant", {"config_value": {"n": 1}}),
        probe("b"),
        probe("e"),
        entry("o", "output", {"name": "result"}),
        connections=[
            conn("c", "a"),
            conn("c", "b"),
            conn("a", "z", "data", "left"),
            conn("b", "z", "data", "right"),
            conn("z", "o"),
        ],
    )


async def test_topological_order_is_deterministic(probe_log: ProbeLog) -> None:
    plan = compile_pipeline(diamond())
    assert [plan.nodes[i].block_id for i in plan.order] == ["c", "a", "b", "z", "e", "o"]
    orders = []
    for _ in range(3):
        probe_log.started.clear()
        ctx = InMemoryContext()
        result = await run_pipeline(plan, {}, ctx, max_parallel_blocks=1)
        assert_completed(result)
        orders.append(result.progress_data["completed_blocks"])
    assert orders == [["c", "a", "b", "z", "e", "o"]] * 3
    assert result.output == {"result": [{"n": 1}, {"n": 1}]}


async def test_independent_branches_run_concurrently(probe_log: ProbeLog) -> None:
    doc = document(*(probe(f"p{i}", delay=0.2) for i in range(4)))
    started = time.monotonic()
    result = await run(doc)
    assert_completed(result)
    assert time.monotonic() - started < 0.7  # sequential: 0.8
    assert probe_log.peak == 4


async def test_per_execution_parallelism_is_bounded(probe_log: ProbeLog) -> None:
    doc = document(*(probe(f"p{i}", delay=0.05) for i in range(6)))
    assert_completed(await run(doc, max_parallel_blocks=2))
    assert probe_log.peak == 2


async def test_fan_out_gives_each_consumer_its_own_copy(probe_log: ProbeLog) -> None:
    doc = document(
        entry("c", "constant", {"config_value": {"items": [1]}}),
        probe("m1", mutate=True),
        probe("m2", mutate=True),
        entry("plain", "identity"),
        out("o1"),
        out("o2"),
        out("o3"),
        connections=[
            conn("c", "m1"),
            conn("c", "m2"),
            conn("c", "plain"),
            conn("m1", "o1"),
            conn("m2", "o2"),
            conn("plain", "o3"),
        ],
    )
    result = await run(doc)
    assert_completed(result)
    assert result.output == {
        "o1": {"items": [1], "mutated": True},
        "o2": {"items": [1], "mutated": True},
        "o3": {"items": [1]},
    }


async def test_multi_port_flattens_one_level(probe_log: ProbeLog) -> None:
    doc = document(
        entry("a", "constant", {"config_value": 1}),
        entry("b", "constant", {"config_value": [2, [3]]}),
        entry("c", "constant", {"config_value": {"x": 1}}),
        probe("p"),
        connections=[
            conn("b", "p", "data", "items"),
            conn("a", "p", "data", "items"),
            conn("c", "p", "data", "items"),
        ],
    )
    assert_completed(await run(doc))
    assert probe_log.inputs["p"] == {"items": [2, [3], 1, {"x": 1}]}


async def test_outputs_follow_blocks_order_and_unconnected_blocks_still_run(
    probe_log: ProbeLog,
) -> None:
    doc = document(
        out("second"),
        out("first"),
        probe("slow", delay=0.05),
        entry("fast", "constant", {"config_value": "f"}),
        probe("side_effect"),
        connections=[conn("slow", "second"), conn("fast", "first")],
    )
    result = await run(doc)
    assert_completed(result)
    assert list(result.output or {}) == ["second", "first"]
    assert "side_effect" in probe_log.finished


async def test_no_output_block_gives_an_empty_output() -> None:
    result = await run(document(entry("c", "constant")))
    assert result.output == {} and result.output_summary == ""


def test_output_summary() -> None:
    summary = output_summary(
        {"s": "x" * 150, "a": [1, 2], "o": {"k": 1}, "n": 3, "b": False, "z": None}
    )
    assert summary == (
        f"s: {'x' * 100}; a: array of 2; o: object with 1 keys; n: 3; b: false; z: null"
    )
    assert len(output_summary({f"k{i}": "v" * 100 for i in range(20)})) == 1000


async def test_chain_overhead_is_small() -> None:
    count = 250
    blocks = [entry("b0", "constant", {"config_value": 1})]
    blocks += [entry(f"b{i}", "identity") for i in range(1, count)]
    doc = document(*blocks, connections=[conn(f"b{i - 1}", f"b{i}") for i in range(1, count)])
    plan = compile_pipeline(doc)
    started = time.perf_counter()
    result = await run_pipeline(plan, {}, InMemoryContext())
    elapsed = time.perf_counter() - started
    assert_completed(result)
    assert elapsed / count < 0.005, f"{elapsed / count * 1000:.2f} ms per block"


# -- failure --------------------------------------------------------------------------------


async def test_failure_reports_block_error_and_blocks_not_run(probe_log: ProbeLog) -> None:
    doc = document(
        entry("c", "constant", {"config_value": 1}),
        probe("bad", fail="zip_length_mismatch"),
        probe("after"),
        probe("slow", delay=5),
        out("o"),
        connections=[conn("c", "bad"), conn("bad", "after"), conn("after", "o")],
    )
    started = time.monotonic()
    result = await run(doc)
    assert time.monotonic() - started < 1
    assert result.status == "failed"
    assert result.output is None and result.output_summary is None
    assert result.failed_block == "bad"
    assert result.error_type == "zip_length_mismatch"
    assert result.error == "Block 'bad' (test_probe) failed: bad failed on purpose"
    data = result.progress_data
    assert data["status"] == "failed"
    assert data["error"] == result.error
    assert data["errors"] == [result.error]
    assert all(isinstance(error, str) for error in data["errors"])
    assert data["failed_block"] == "bad" and data["error_type"] == "zip_length_mismatch"
    assert data["not_run_blocks"] == ["after", "o"]
    assert data["blocks"]["bad"]["status"] == "failed"
    assert data["blocks"]["bad"]["error"] == "bad failed on purpose"
    assert data["blocks"]["slow"]["status"] == "cancelled"
    assert data["running_blocks"] == []
    assert "running" not in {block["status"] for block in data["blocks"].values()}
    assert data["message"] == f"Failed: {result.error}"
    assert probe_log.cancelled == ["slow"]
    assert "after" not in probe_log.started


async def test_unexpected_exception_is_internal_error(probe_log: ProbeLog) -> None:
    result = await run(document(probe("p", crash=True)))
    assert result.status == "failed"
    assert result.error_type == "internal_error"
    # The exception's kind, never its text (which can name paths, keys or SQL): that is logged.
    assert result.error == (
        "Block 'p' (test_probe) failed: an internal error (RuntimeError); "
        "the server's log has the details"
    )
    assert "Traceback" not in json.dumps(result.progress_data)
    assert "boom" not in json.dumps(result.progress_data)


async def test_concurrent_failures_are_all_listed(probe_log: ProbeLog) -> None:
    doc = document(probe("x", fail="one"), probe("y", fail="two"))
    result = await run(doc)
    assert result.failed_block == "x"
    assert result.errors == [
        "Block 'x' (test_probe) failed: x failed on purpose",
        "Block 'y' (test_probe) failed: y failed on purpose",
    ]


async def test_block_returning_a_non_object_fails(probe_log: ProbeLog) -> None:
    from moderately.engine import get_block_type

    probe_type = get_block_type("test_probe")
    original = probe_type.run

    async def bad_run(ctx: Any, config: Any, inputs: Any) -> Any:
        return ["not", "a", "dict"]

    probe_type.run = bad_run  # type: ignore[method-assign]
    try:
        result = await run(document(probe("p")))
    finally:
        probe_type.run = original  # type: ignore[method-assign]
    assert result.error_type == "internal_error"
    assert "not an object" in (result.error or "")


async def test_timeout(probe_log: ProbeLog) -> None:
    doc = document(probe("slow", delay=5), probe("next"), connections=[conn("slow", "next")])
    started = time.monotonic()
    result = await run(doc, timeout=0.2)
    assert time.monotonic() - started < 1.5
    assert result.status == "failed" and result.error_type == "timeout"
    assert result.failed_block is None
    assert "wall-time budget of 0.2 s" in (result.error or "")
    assert result.progress_data["blocks"]["slow"]["status"] == "cancelled"
    assert result.progress_data["not_run_blocks"] == ["next"]


async def test_invalid_configuration_at_run_time() -> None:
    result = await run(document(entry("x", "teleport")))
    assert result.status == "failed"
    assert result.error_type == "invalid_pipeline_configuration"
    assert "teleport" in (result.error or "")
    assert result.progress_data["errors"][0] == result.error


async def test_output_schema_mismatch() -> None:
    doc = document(
        entry("c", "constant", {"config_value": "text"}),
        entry("o", "output", {"name": "n", "json_schema": {"type": "number"}}),
        connections=[conn("c", "o")],
    )
    result = await run(doc)
    assert result.error_type == "output_schema_mismatch"
    assert "(root): 'text' is not of type 'number'" in (result.error or "")


# -- cancellation ---------------------------------------------------------------------------


def cancel_when(ctx: InMemoryContext, kind: str, block_id: str) -> None:
    def hook(progress: ExecutionProgress) -> None:
        event = progress.last_event
        if (event.kind, event.block_id) == (kind, block_id):
            ctx.cancel()

    ctx.on_progress = hook


async def test_cancel_stops_running_blocks_quickly(probe_log: ProbeLog) -> None:
    doc = document(probe("slow", delay=30), probe("next"), connections=[conn("slow", "next")])
    ctx = InMemoryContext()
    cancel_when(ctx, "block_started", "slow")
    started = time.monotonic()
    result = await run(doc, ctx=ctx)
    assert time.monotonic() - started < 1.0  # the spec allows 2 s
    assert result.status == "cancelled"
    assert result.output is None
    data = result.progress_data
    assert data["status"] == "cancelled" and data["message"] == "Cancelled"
    assert data["blocks"]["slow"]["status"] == "cancelled"
    assert data["blocks"]["next"]["status"] == "pending"
    assert data["not_run_blocks"] == ["next"]
    assert probe_log.cancelled == ["slow"] and probe_log.started == ["slow"]


async def test_cancel_from_another_task(probe_log: ProbeLog) -> None:
    doc = document(probe("slow", delay=30))
    ctx = InMemoryContext()
    task = asyncio.create_task(run(doc, ctx=ctx))
    await asyncio.sleep(0.05)
    cancelled_at = time.monotonic()
    ctx.cancel()
    result = await task
    assert time.monotonic() - cancelled_at < 1.0
    assert result.status == "cancelled"


async def test_no_block_starts_after_cancel(probe_log: ProbeLog) -> None:
    doc = document(probe("a"), probe("b"), probe("c"), connections=[conn("a", "b"), conn("b", "c")])
    ctx = InMemoryContext()
    cancel_when(ctx, "block_completed", "a")
    result = await run(doc, ctx=ctx)
    assert result.status == "cancelled"
    assert probe_log.started == ["a"]
    assert result.progress_data["completed_blocks"] == ["a"]
    assert result.current_step == 1


async def test_cancel_before_start(probe_log: ProbeLog) -> None:
    ctx = InMemoryContext()
    ctx.cancel()
    result = await run(document(probe("a")), ctx=ctx)
    assert result.status == "cancelled" and probe_log.started == []


async def test_cancel_with_a_block_that_ignores_it(probe_log: ProbeLog) -> None:
    doc = document(probe("stubborn", delay=3, ignore_cancel=True))
    ctx = InMemoryContext()
    cancel_when(ctx, "block_started", "stubborn")
    started = time.monotonic()
    result = await run(doc, ctx=ctx)
    assert time.monotonic() - started < 2.5  # the grace period, not the block's 6 s
    assert result.status == "cancelled"
    assert result.progress_data["blocks"]["stubborn"]["status"] == "cancelled"


async def test_cancelling_the_runner_task_cancels_blocks(probe_log: ProbeLog) -> None:
    task = asyncio.create_task(run(document(probe("slow", delay=30))))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert probe_log.cancelled == ["slow"]


# -- pause and resume -----------------------------------------------------------------------


async def test_pause_and_resume(probe_log: ProbeLog) -> None:
    doc = document(
        entry("c", "constant", {"config_value": [1, 2]}),
        probe("a"),
        probe("b", delay=0.05),
        probe("late"),
        out("o"),
        entry("art", "artifact", {"name": "snap"}),
        connections=[
            conn("c", "a"),
            conn("c", "b"),
            conn("a", "late"),
            conn("b", "late", "data", "items"),
            conn("late", "o"),
            conn("c", "art"),
        ],
    )
    ctx = InMemoryContext()

    def pause_after_a(progress: ExecutionProgress) -> None:
        if progress.last_event.kind == "block_started" and progress.last_event.block_id == "b":
            ctx.pause()

    ctx.on_progress = pause_after_a
    paused = await run(doc, ctx=ctx, max_parallel_blocks=1)
    assert paused.status == "paused"
    assert paused.output is None
    checkpoint = json.loads(json.dumps(paused.checkpoint))
    assert checkpoint["completed_blocks"] == ["c", "a", "b"]
    assert paused.progress_data["not_run_blocks"] == ["late", "o", "art"]
    assert "late" not in probe_log.started

    probe_log.started.clear()
    resumed = await run(doc, ctx=InMemoryContext(), resume=checkpoint)
    assert_completed(resumed)
    assert sorted(probe_log.started) == ["late"]
    assert resumed.output == {"o": [1, 2]}
    assert probe_log.inputs["late"] == {"data": [1, 2], "items": [1, 2]}
    assert (resumed.current_step, resumed.total_steps) == (6, 6)
    assert resumed.progress_data["artifacts"]["snap"]["value"] == [1, 2]


async def test_cancel_wins_over_pause(probe_log: ProbeLog) -> None:
    ctx = InMemoryContext()
    ctx.pause()
    ctx.cancel()
    result = await run(document(probe("a")), ctx=ctx)
    assert result.status == "cancelled"


# -- inputs ---------------------------------------------------------------------------------


def two_inputs() -> dict[str, Any]:
    return document(
        inp("name", {"type": "string", "minLength": 2}),
        inp(
            "people",
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}},
                },
            },
        ),
    )


def test_prepare_inputs_reports_every_problem() -> None:
    plan = compile_pipeline(two_inputs())
    with pytest.raises(InvalidPipelineInput) as raised:
        prepare_inputs(plan, {"name": "x", "people": [{"name": "a"}, {"name": 3}, {}]})
    assert raised.value.details == [
        {"field": "name", "message": "'x' is too short", "value": "x"},
        {"field": "people/1/name", "message": "3 is not of type 'string'", "value": 3},
        {"field": "people/2", "message": "'name' is a required property"},
    ]
    with pytest.raises(InvalidPipelineInput) as raised:
        prepare_inputs(plan, {"people": []})
    assert raised.value.details == [
        {"field": "name", "message": "pipelineInput has no value for input block 'name'"}
    ]
    with pytest.raises(InvalidPipelineInput):
        prepare_inputs(plan, ["not", "an", "object"])


def test_input_lookup_rules() -> None:
    keyed = {
        "id": "p",
        "name": "p",
        "blocks": {"question": entry("input-1", "input", {"json_schema": {"type": "string"}})},
    }
    assert prepare_inputs(compile_pipeline(keyed), {"question": "q"}) == {"input-1": "q"}
    defaulted = document(inp("a", {"type": "number", "default": 4}), inp("b", {"type": "number"}))
    assert prepare_inputs(compile_pipeline(defaulted), {"b": 1, "extra": 2}) == {"a": 4, "b": 1}
    single = document(
        inp("input", {"type": "object", "required": ["documents"]}),
    )
    whole = {"documents": ["d1"]}
    assert prepare_inputs(compile_pipeline(single), whole) == {"input": whole}
    with pytest.raises(InvalidPipelineInput):
        prepare_inputs(compile_pipeline(single), {"other": 1})


def test_formats_are_not_asserted_by_the_schema_check() -> None:
    plan = compile_pipeline(document(inp("f", {"type": "string", "format": "file"})))
    assert prepare_inputs(plan, {"f": "anything"}) == {"f": "anything"}


async def test_invalid_input_fails_the_run_without_running_blocks() -> None:
    result = await run(echo_configuration(), {"user_input": 5})
    assert result.status == "failed"
    assert result.error_type == "invalid_pipeline_input"
    assert result.error == "Invalid pipeline input: user_input: 5 is not of type 'string'"
    assert result.progress_data["not_run_blocks"] == ["user_input", "echo_result"]
    assert result.total_steps == 2


async def test_input_values_are_copied() -> None:
    doc = document(inp("i", {"type": "array"}), out("o"), connections=[conn("i", "o")])
    given = {"i": [1]}
    result = await run(doc, given)
    assert result.output == {"o": [1]}
    assert result.output["o"] is not given["i"]  # type: ignore[index]


REFERENCES = document(
    inp("pdf", {"type": "string", "format": "file"}),
    inp("defs", {"type": "string", "format": "dataset"}),
    inp("many", {"type": "array", "items": {"type": "string", "format": "dataset"}}),
    inp("nested", {"type": "object", "properties": {"f": {"type": "string", "format": "file"}}}),
    inp("plain", {"type": "string"}),
)


async def test_reference_formats_are_checked_when_the_input_runs() -> None:
    ctx = InMemoryContext()
    pdf = ctx.add_file(b"%PDF-1.4", mime_type="application/pdf")
    ctx.add_dataset("ds_1", [{"a": "1"}])
    ctx.add_dataset("ds_2", [{"a": "2"}])
    ctx.add_dataset("ds_empty", has_data=False)
    good = {
        "pdf": pdf.file_id,
        "defs": "ds_1",
        "many": ["ds_1", "ds_2"],
        "nested": {"f": pdf.file_id},
        "plain": "not checked",
    }
    assert_completed(await run(REFERENCES, good, ctx))
    cases = [
        ({"pdf": "file_missing"}, "pdf: file 'file_missing' not found"),
        ({"defs": "ds_nope"}, "defs: dataset 'ds_nope' not found"),
        ({"many": ["ds_1", "ds_empty"]}, "many/1: dataset 'ds_empty' has no data"),
        ({"nested": {"f": "f_x"}}, "nested/f: file 'f_x' not found"),
    ]
    for change, message in cases:
        result = await run(REFERENCES, {**good, **change}, ctx)
        assert result.status == "failed", change
        assert result.error_type == "reference_not_found"
        assert message in (result.error or "")


# -- host faults ----------------------------------------------------------------------------


async def test_a_failing_progress_writer_does_not_stop_the_run() -> None:
    ctx = InMemoryContext()

    def broken(progress: ExecutionProgress) -> None:
        raise OSError("database is gone")

    ctx.on_progress = broken
    result = await run_pipeline(echo_configuration(), {"user_input": "x"}, ctx)
    assert_completed(result)


async def test_a_failing_host_fails_the_run_cleanly(probe_log: ProbeLog) -> None:
    class Exploding(InMemoryContext):
        calls = 0

        def cancel_requested(self) -> bool:
            self.calls += 1
            if self.calls > 3:
                raise RuntimeError("flag store unreachable")
            return False

    doc = document(probe("slow", delay=5), probe("next"), connections=[conn("slow", "next")])
    started = time.monotonic()
    result = await run(doc, ctx=Exploding())
    assert time.monotonic() - started < 2
    assert result.status == "failed"
    assert result.error_type == "internal_error"
    assert result.error == (
        "The pipeline engine failed: an internal error (RuntimeError); "
        "the server's log has the details"
    )
    assert result.progress_data["blocks"]["slow"]["status"] == "cancelled"


# -- progress snapshots ---------------------------------------------------------------------


def test_progress_snapshots_follow_every_change_and_stay_apart() -> None:
    """A block's wire form is rendered once per change (engine/progress.py): each snapshot
    still shows the block as it is, and a snapshot kept or changed does not move with it."""
    progress = ExecutionProgress([("a", "identity", None), ("b", "identity", "B")])
    progress.run_started()
    before = progress.progress_data()
    progress.block_started("a")
    running = progress.progress_data()
    assert before["blocks"]["a"]["status"] == "pending"
    assert running["blocks"]["a"]["status"] == "running"
    assert running["blocks"]["a"]["started_at"] is not None
    running["blocks"]["b"]["status"] = "scribbled"  # a consumer's copy is its own
    progress.items("a", 10, 3)
    progress.phase("a", "reading")
    progress.block_completed("a")
    done = progress.progress_data()
    assert done["blocks"]["a"] | {"started_at": None, "completed_at": None, "duration_ms": 0} == {
        "type": "identity",
        "status": "completed",
        "started_at": None,
        "completed_at": None,
        "duration_ms": 0,
        "error": None,
        "items_total": 10,
        "items_completed": 3,
        "phase": "reading",
    }
    assert done["blocks"]["b"]["status"] == "pending"
    assert running["blocks"]["a"]["status"] == "running"
    progress.block_failed("b", "block_error", "broke")
    failed = progress.progress_data()["blocks"]["b"]
    assert (failed["status"], failed["error"], failed["error_type"]) == (
        "failed",
        "broke",
        "block_error",
    )
