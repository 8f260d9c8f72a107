"""Pipelines against the real server, on both configurations (SQLite + local store, PostgreSQL +
S3): the echo demo end to end, validation, version rules, cancellation, stored outputs, bad input,
isolation and paging; failures through a scripted transport."""

import builtins
import gzip
import json
import time
import uuid
from typing import Any, Callable, Dict, List

import httpx
import pytest

from moderatelyai_sdk import (
    AsyncModeratelyAI,
    AsyncPage,
    ConflictError,
    NotFoundError,
    PipelineAsyncModel,
    PipelineConfigurationVersionAsyncModel,
    PipelineExecutionAsyncModel,
    PipelineExecutionCancelledError,
    PipelineExecutionError,
    PipelineExecutionFailedError,
    TimeoutError,
    ValidationError,
    _io_async,
)

from ..configurations import ECHO, graph

pytestmark = pytest.mark.anyio

FAST = {"poll_interval": 0.2, "timeout": 60.0}
TEXT = "Hello from the Moderately AI SDK pipeline example!"


async def wait_running(execution: PipelineExecutionAsyncModel) -> None:
    """Until a worker process has picked the execution up."""
    deadline = time.monotonic() + 30
    while not (await execution.refresh()).is_running:
        assert time.monotonic() < deadline, execution.status
        await _io_async.sleep(0.05)


def connect(credentials: Any, **overrides: Any) -> AsyncModeratelyAI:
    options = {
        "api_key": credentials.api_key,
        "team_id": credentials.team_id,
        "base_url": credentials.base_url,
        **overrides,
    }
    return AsyncModeratelyAI(**options)


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def slow(block_type: str, seconds: float = 30.0) -> Dict[str, Any]:
    return graph(
        {
            "in": ("input", {"json_schema": {"type": "string"}}),
            "nap": (block_type, {"seconds": seconds}),
            "out": ("output", {"name": "result"}),
        },
        [("in", "data", "nap", "data"), ("nap", "data", "out", "data")],
        name="slow",
    )


async def echo_version(
    client: AsyncModeratelyAI,
) -> "tuple[PipelineAsyncModel, PipelineConfigurationVersionAsyncModel]":
    pipeline = await client.pipelines.create(name=unique("echo"), description="echo demo")
    version = await pipeline.create_configuration_version(configuration=ECHO, status="draft")
    return pipeline, version


# --- the echo demo ----------------------------------------------------------------------------


async def test_echo_demo_end_to_end(admin: Any) -> None:
    async with connect(admin) as client:
        pipeline = await client.pipelines.create(name=unique("echo_demo"), description="Echo")
        assert isinstance(pipeline, PipelineAsyncModel)
        assert pipeline["pipelineId"] == pipeline.pipeline_id
        assert (pipeline.total_runs, pipeline.success_rate) == (0, 0)
        with pytest.raises(ConflictError):
            await client.pipelines.create(name=pipeline.name)

        version = await pipeline.create_configuration_version(configuration=ECHO, status="draft")
        assert isinstance(version, PipelineConfigurationVersionAsyncModel)
        assert (version.version, version.status, version.is_draft) == (1, "draft", True)
        assert version.configuration["blocks"].keys() == ECHO["blocks"].keys()
        report = await version.validate()
        assert (report["valid"], report["errors"], report["warnings"]) == (True, [], [])
        assert report["inputSchema"]["properties"] == {"user_input": {"type": "string"}}

        seen: List[Any] = []
        execution = await version.execute(
            pipeline_input={"user_input": TEXT},
            pipeline_input_summary="echo demo",
            block=True,
            on_progress=lambda e: seen.append((e.status, e.progress_percentage)),
            **FAST,
        )
        assert isinstance(execution, PipelineExecutionAsyncModel)
        assert execution.is_completed and execution.is_terminal and not execution.is_running
        assert execution.progress_percentage == 100.0
        assert execution.current_step == execution.total_steps == 2
        assert execution.pipeline_output == {"echoed_message": TEXT}
        assert seen and seen[-1] == ("completed", 100.0)
        assert await execution.get_output() == {"echoed_message": TEXT}
        got = await client.pipeline_executions.get_output(execution.execution_id)
        assert got == {"echoed_message": TEXT}

        page = await client.pipeline_executions.list(
            pipeline_ids=[pipeline.pipeline_id], page_size=5, order_direction="desc"
        )
        assert [e.execution_id for e in page.data] == [execution.execution_id]
        versions = await pipeline.list_configuration_versions()
        assert [v.configuration_version_id for v in versions] == [version.configuration_version_id]

        clone = await version.clone()
        assert (clone.version, clone.status, clone.pipeline_id) == (
            2,
            "draft",
            pipeline.pipeline_id,
        )
        assert clone.configuration_version_id != version.configuration_version_id
        changed = {**clone.configuration, "description": "changed", "version": "1.1.0"}
        same = await clone.update(configuration=changed)
        assert same is clone and clone.configuration["version"] == "1.1.0"

        found = await client.pipelines.list(name_like=pipeline.name.upper())
        assert [p.pipeline_id for p in found.data] == [pipeline.pipeline_id]
        latest = await pipeline.get_latest_execution()
        assert latest is not None and latest.execution_id == execution.execution_id
        await pipeline.refresh()
        assert (pipeline.total_runs, pipeline.successful_runs, pipeline.success_rate) == (1, 1, 100)

        renamed = await client.pipelines.update(
            pipeline.pipeline_id, name=pipeline.name + " v2", description="changed"
        )
        assert (renamed.name, renamed.description) == (pipeline.name + " v2", "changed")
        await pipeline.delete()
        for call in (
            lambda: client.pipelines.retrieve(pipeline.pipeline_id),
            lambda: client.pipeline_configuration_versions.retrieve(
                version.configuration_version_id
            ),
            lambda: client.pipeline_executions.retrieve(execution.execution_id),
        ):
            with pytest.raises(NotFoundError):
                await call()


async def test_execute_on_the_current_version_and_latest_execution(admin: Any) -> None:
    async with connect(admin) as client:
        pipeline = await client.pipelines.create(name=unique("current"))
        assert await pipeline.get_latest_execution() is None
        with pytest.raises(ValueError):
            await pipeline.execute(pipeline_input={"user_input": "x"})
        first = await pipeline.create_configuration_version(configuration=ECHO, status="current")
        assert first.is_current
        one = await pipeline.execute(pipeline_input={"user_input": "one"}, block=True, **FAST)
        two = await pipeline.execute(
            configuration_version_id=first.configuration_version_id,
            pipeline_input={"user_input": "two"},
            pipeline_input_summary="second",
        )
        assert one.configuration_version_id == first.configuration_version_id
        assert two.pipeline_input_summary == "second"
        await two.wait_for_completion(**FAST)
        assert await two.get_output() == {"echoed_message": "two"}
        latest = await pipeline.get_latest_execution()
        assert latest is not None and latest.execution_id == two.execution_id
        assert [e.execution_id for e in await first.list_executions()] == [
            two.execution_id,
            one.execution_id,
        ]
        assert (await first.get_latest_execution()).execution_id == two.execution_id  # type: ignore[union-attr]
        assert (await first.get_pipeline()).pipeline_id == pipeline.pipeline_id
        completed = await pipeline.list_executions(status="completed", page_size=1)
        assert [e.execution_id for e in completed] == [two.execution_id]
        await pipeline.delete()


# --- configuration versions -------------------------------------------------------------------


async def test_validate_reports_and_schema(admin: Any) -> None:
    broken = graph(
        {"a": ("no_such_block", {}), "out": ("output", {"name": "o"})},
        [("ghost", "data", "out", "data")],
    )
    async with connect(admin) as client:
        versions = client.pipeline_configuration_versions
        assert (await versions.validate(ECHO))["valid"] is True  # positional, as in 0.2.7 code
        report = await versions.validate(configuration=broken)
        assert report["valid"] is False
        kinds = {(e["type"], e["errorType"]) for e in report["errors"]}
        assert ("block_type_error", "unknown_block_type") in kinds
        assert ("connection_error", "unknown_source_block") in kinds
        with pytest.raises(ValidationError):
            await versions.validate("not a document")  # type: ignore[arg-type]
        schema = await versions.get_schema()
        assert "draft-07" in schema["$schema"]
        assert {"id", "name", "blocks"} <= set(schema["required"])


async def test_version_status_rules(admin: Any) -> None:
    async with connect(admin) as client:
        versions = client.pipeline_configuration_versions
        pipeline = await client.pipelines.create(name=unique("rules"))
        current = await versions.create(
            pipeline_id=pipeline.pipeline_id, configuration=ECHO, status="current"
        )
        assert current.is_current and current.version == 1
        with pytest.raises(ConflictError):
            await versions.create(
                pipeline_id=pipeline.pipeline_id, configuration=ECHO, status="current"
            )
        draft = await versions.clone(current.configuration_version_id)
        assert (draft.version, draft.status) == (2, "draft")
        with pytest.raises(ConflictError):
            await draft.update(status="current")
        with pytest.raises(ValidationError):  # a current configuration is frozen
            await versions.update(current.configuration_version_id, configuration=ECHO)
        with pytest.raises(ValidationError):  # archive it first
            await current.delete()
        archived = await current.update(status="archived")
        assert archived.is_archived and not archived.is_current
        await draft.update(status="current")
        assert draft.is_current
        assert (await pipeline.get_current_configuration_version()).configuration_version_id == (  # type: ignore[union-attr]
            draft.configuration_version_id
        )
        await current.delete()
        with pytest.raises(NotFoundError):
            await current.refresh()
        listed = await versions.list(pipeline_ids=[pipeline.pipeline_id], order_by="version")
        assert [v.version for v in listed.data] == [2]
        with pytest.raises(ValidationError) as caught:  # structurally invalid: no blocks
            await versions.create(
                pipeline_id=pipeline.pipeline_id, configuration={"id": "x", "name": "x"}
            )
        assert caught.value.validation_details
        with pytest.raises(NotFoundError):
            await versions.create(pipeline_id="no-such-pipeline", configuration=ECHO)
        await pipeline.delete()


# --- executions -------------------------------------------------------------------------------


async def test_bad_input_is_a_validation_error(admin: Any) -> None:
    async with connect(admin) as client:
        pipeline, version = await echo_version(client)
        with pytest.raises(ValidationError) as caught:
            await version.execute(pipeline_input={"user_input": 5})
        assert [d.get("field") for d in caught.value.validation_details] == ["user_input"]
        with pytest.raises(ValidationError):
            await client.pipeline_executions.create(
                pipeline_configuration_version_id=version.configuration_version_id,
                pipeline_input={},
                pipeline_input_summary="missing input",
            )
        with pytest.raises(NotFoundError):
            await client.pipeline_executions.create(
                pipeline_configuration_version_id="no-such-version",
                pipeline_input={"user_input": "x"},
                pipeline_input_summary="x",
            )
        await pipeline.delete()


async def test_cancel_running_and_finished_and_output_of_pending(
    admin: Any, slow_block: str
) -> None:
    async with connect(admin) as client:
        pipeline = await client.pipelines.create(name=unique("slow"))
        version = await pipeline.create_configuration_version(configuration=slow(slow_block))
        execution = await version.execute(pipeline_input={"in": "zzz"})
        assert execution.is_pending or execution.is_running
        with pytest.raises(NotFoundError):  # no output before it completes
            await execution.get_output()
        with pytest.raises(TimeoutError) as timed_out:
            await execution.wait_for_completion(timeout=0.5, poll_interval=0.1)
        assert isinstance(timed_out.value, builtins.TimeoutError)
        await wait_running(execution)
        assert execution.current_block in (None, "nap", "in")
        cancelled = await client.pipeline_executions.cancel(
            execution.execution_id, reason="no time"
        )
        assert cancelled.is_cancelled and cancelled.cancelled_at
        with pytest.raises(PipelineExecutionCancelledError) as caught:
            await execution.wait_for_completion(**FAST)
        assert caught.value.reason == "no time" and caught.value.execution is execution
        assert isinstance(caught.value, PipelineExecutionError)
        with pytest.raises(ConflictError):
            await execution.cancel()
        with pytest.raises(NotFoundError):
            await execution.get_output()

        finished = await pipeline.execute(
            configuration_version_id=(
                await pipeline.create_configuration_version(configuration=ECHO)
            ).configuration_version_id,
            pipeline_input={"user_input": "done"},
            block=True,
            **FAST,
        )
        with pytest.raises(ConflictError):
            await client.pipeline_executions.cancel(finished.execution_id)
        await pipeline.delete()


async def test_update_pauses_a_running_execution(admin: Any, slow_block: str) -> None:
    async with connect(admin) as client:
        pipeline = await client.pipelines.create(name=unique("pause"))
        version = await pipeline.create_configuration_version(configuration=slow(slow_block, 0.5))
        execution = await version.execute(pipeline_input={"in": "p"})
        await wait_running(execution)
        paused = await client.pipeline_executions.update(execution.execution_id, status="paused")
        assert paused.status == "paused" and paused.paused_at
        with pytest.raises(ValidationError):  # paused -> completed is not a transition
            await client.pipeline_executions.update(execution.execution_id, status="completed")
        await execution.cancel(reason="paused long enough")
        assert execution.is_cancelled
        await pipeline.delete()


async def test_a_failing_block_fails_the_execution(admin: Any) -> None:
    failing = graph(
        {
            "in": ("input", {"json_schema": {"type": "string"}}),
            "groups": ("transform", {"operations": [{"type": "group_by", "field": "a"}]}),
            "out": ("output", {"name": "groups"}),
        },
        [("in", "data", "groups", "data"), ("groups", "data", "out", "data")],
    )
    async with connect(admin) as client:
        pipeline = await client.pipelines.create(name=unique("failing"))
        version = await pipeline.create_configuration_version(configuration=failing)
        with pytest.raises(PipelineExecutionFailedError) as caught:
            await version.execute(pipeline_input={"in": "not a list"}, block=True, timeout=5)
        error = caught.value
        assert error.failed_block == "groups" and error.error_type == "transform_type_error"
        assert "group_by needs a list" in str(error) and error.errors
        execution = error.execution
        assert execution.is_failed and execution.failed_at and execution.failed_block == "groups"
        with pytest.raises(NotFoundError):
            await execution.get_output()
        await pipeline.delete()


async def test_large_output_is_stored_and_fetched(admin: Any) -> None:
    big = "x" * (1024 * 1024 + 4096)  # above the 1 MiB inline limit
    async with connect(admin) as client:
        pipeline, version = await echo_version(client)
        execution = await version.execute(pipeline_input={"user_input": big}, block=True, **FAST)
        assert execution.pipeline_output is None and execution.pipeline_output_file_uri
        assert await execution.get_output() == {"echoed_message": big}
        await pipeline.delete()


async def test_executions_pages(admin: Any) -> None:
    async with connect(admin) as client:
        pipeline, version = await echo_version(client)
        made = [
            await version.execute(pipeline_input={"user_input": str(n)}, block=True, **FAST)
            for n in range(3)
        ]
        page = await client.pipeline_executions.list(
            pipeline_configuration_version_ids=[version.configuration_version_id],
            page_size=2,
            order_by="created_at",
        )
        assert isinstance(page, AsyncPage) and len(page.data) == 2 and page.has_next_page()
        assert page["pagination"]["totalItems"] == 3
        walked = [e.execution_id async for e in page.auto_paging_iter()]
        assert walked == [e.execution_id for e in made]
        picked = await client.pipeline_executions.list(
            pipeline_execution_ids=[made[1].execution_id], statuses=["completed", "failed"]
        )
        assert [e.execution_id for e in picked.data] == [made[1].execution_id]
        assert (
            await client.pipeline_executions.list(
                status="running", pipeline_ids=[pipeline.pipeline_id]
            )
        ).data == []
        await pipeline.delete()


async def test_another_teams_pipelines_are_not_found(admin: Any, outsider: Any) -> None:
    async with connect(admin) as client, connect(outsider) as other:
        pipeline, version = await echo_version(client)
        execution = await version.execute(pipeline_input={"user_input": "mine"}, block=True, **FAST)
        pid, vid, eid = (
            pipeline.pipeline_id,
            version.configuration_version_id,
            execution.execution_id,
        )
        calls: List[Callable[[], Any]] = [
            lambda: other.pipelines.retrieve(pid),
            lambda: other.pipelines.update(pid, name="stolen"),
            lambda: other.pipelines.delete(pid),
            lambda: other.pipeline_configuration_versions.create(
                pipeline_id=pid, configuration=ECHO
            ),
            lambda: other.pipeline_configuration_versions.retrieve(vid),
            lambda: other.pipeline_configuration_versions.update(vid, status="archived"),
            lambda: other.pipeline_configuration_versions.clone(vid),
            lambda: other.pipeline_configuration_versions.delete(vid),
            lambda: other.pipeline_executions.create(
                pipeline_configuration_version_id=vid,
                pipeline_input={"user_input": "x"},
                pipeline_input_summary="x",
            ),
            lambda: other.pipeline_executions.retrieve(eid),
            lambda: other.pipeline_executions.update(eid, pipeline_output_summary="x"),
            lambda: other.pipeline_executions.cancel(eid),
            lambda: other.pipeline_executions.get_output(eid),
        ]
        for call in calls:
            with pytest.raises(NotFoundError):
                await call()
        assert (await other.pipelines.list(pipeline_ids=[pid])).data == []
        assert (await other.pipeline_configuration_versions.list(pipeline_ids=[pid])).data == []
        assert (await other.pipeline_executions.list(pipeline_ids=[pid])).data == []
        assert await client.pipeline_executions.get_output(eid) == {"echoed_message": "mine"}
        await pipeline.delete()


# --- waiting, failures and stored outputs through a scripted transport ------------------------


def execution_body(status: str, **fields: Any) -> Dict[str, Any]:
    return {
        "pipelineExecutionId": "exe_1",
        "pipelineConfigurationVersionId": "ver_1",
        "pipelineInput": {},
        "pipelineInputSummary": "s",
        "status": status,
        "progressData": {},
        **fields,
    }


def scripted_client(answers: List[Any], requests: List[httpx.Request]) -> AsyncModeratelyAI:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)

    return AsyncModeratelyAI(
        api_key="k",
        team_id="t",
        base_url="http://api.test",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )


async def test_wait_raises_the_failing_block_and_its_errors(sleeps: List[float]) -> None:
    failed = execution_body(
        "failed",
        currentStep=1,
        totalSteps=3,
        progressData={
            "status": "failed",
            "error": "Block 't' (transform) failed: boom",
            "errors": ["Block 't' (transform) failed: boom", "Block 'u' (map) failed: bang"],
            "failed_block": "t",
            "error_type": "transform_type_error",
        },
    )
    running = execution_body(
        "running", currentStep=1, totalSteps=3, progressData={"current_block": "t"}
    )
    requests: List[httpx.Request] = []
    seen: List[Any] = []
    async with scripted_client([running, running, failed], requests) as client:
        execution = await client.pipeline_executions.retrieve("exe_1")
        assert execution.progress_message == "Processing t" and execution.current_block == "t"
        assert execution.progress_percentage == pytest.approx(100 / 3)
        with pytest.raises(PipelineExecutionFailedError) as caught:
            await execution.wait_for_completion(
                poll_interval=5.0, on_progress=lambda e: seen.append(e.status)
            )
    error = caught.value
    assert error.failed_block == "t" and error.error_type == "transform_type_error"
    assert error.errors == [
        "Block 't' (transform) failed: boom",
        "Block 'u' (map) failed: bang",
    ]
    assert str(error) == (
        "Pipeline execution failed: Block 't' (transform) failed: boom; "
        "Block 'u' (map) failed: bang"
    )
    assert error.execution is execution and execution.is_failed and execution.failed_block == "t"
    assert seen == ["running", "failed"]  # once per change, never for an unchanged poll
    assert sleeps == [0.1] and all(r.url.path == "/pipeline-executions/exe_1" for r in requests)


async def test_wait_times_out_with_the_sdk_timeout(sleeps: List[float]) -> None:
    requests: List[httpx.Request] = []
    async with scripted_client([execution_body("pending")], requests) as client:
        execution = await client.pipeline_executions.retrieve("exe_1")
        with pytest.raises(TimeoutError):
            await execution.wait_for_completion(timeout=0.0)


async def test_stored_output_is_downloaded_and_gunzipped() -> None:
    payload = {"rows": list(range(1000))}
    packed = gzip.compress(json.dumps(payload).encode())
    stored = {
        "type": "s3",
        "downloadUrl": "http://store.test/out.json.gz?sig=1",
        "expiresAt": "2030-01-01T00:00:00Z",
        "metadata": {
            "fileSizeBytes": len(packed),
            "compressionType": "gzip",
            "fileType": "json",
            "outputSummary": None,
        },
    }
    requests: List[httpx.Request] = []
    answers: List[Any] = [
        stored,
        httpx.Response(200, content=packed, headers={"content-type": "application/gzip"}),
    ]
    async with scripted_client(answers, requests) as client:
        assert await client.pipeline_executions.get_output("exe_1") == payload
    assert [(r.url.host, r.url.path) for r in requests] == [
        ("api.test", "/pipeline-executions/exe_1/output"),
        ("store.test", "/out.json.gz"),
    ]
    assert "authorization" not in requests[1].headers  # the API key never goes to storage
    inline = {"type": "inline", "data": None, "summary": None}
    async with scripted_client([inline], []) as client:
        assert await client.pipeline_executions.get_output("exe_1") == {}
    async with scripted_client([{"type": "other"}], []) as client:
        assert await client.pipeline_executions.get_output("exe_1") is None


async def test_cancel_sends_the_reason_and_empty_ids_are_refused() -> None:
    requests: List[httpx.Request] = []
    async with scripted_client([execution_body("cancelled")], requests) as client:
        await client.pipeline_executions.cancel("exe_1", reason="because")
        await client.pipeline_executions.cancel("exe_1")
        with pytest.raises(ValueError):
            await client.pipeline_executions.cancel("")
        with pytest.raises(ValueError):
            await client.pipeline_configuration_versions.clone("")
    assert [json.loads(r.content) for r in requests] == [{"reason": "because"}, {}]


async def test_list_queries_on_the_wire() -> None:
    requests: List[httpx.Request] = []
    empty = {"items": [], "pagination": {"page": 1, "pageSize": 1, "totalItems": 0}}
    pipeline_body = {"pipelineId": "pip_1", "teamId": "t", "name": "p"}
    async with scripted_client([empty], requests) as client:
        await client.pipelines.list(pipeline_ids=["a", "b"], name_like="x")
        await client.pipeline_executions.list(statuses=["running", "paused"], status="running")
        pipeline = client._cast(PipelineAsyncModel, pipeline_body)
        assert await pipeline.get_latest_execution() is None
        assert await pipeline.list_configuration_versions() == []
    queries = [dict(r.url.params) for r in requests]
    assert queries[0] == {
        "teamIds": "t",
        "page": "1",
        "pageSize": "10",
        "orderDirection": "asc",
        "pipelineIds": "a,b",
        "nameLike": "x",
    }
    assert queries[1]["statuses"] == "running,paused" and queries[1]["status"] == "running"
    assert "orderBy" not in queries[1]
    assert {k: queries[2][k] for k in ("pipelineIds", "pageSize", "orderBy", "orderDirection")} == {
        "pipelineIds": "pip_1",
        "pageSize": "1",
        "orderBy": "createdAt",
        "orderDirection": "desc",
    }
    assert requests[3].url.path == "/pipeline-configuration-versions"
    assert queries[3]["orderBy"] == "version" and queries[3]["orderDirection"] == "desc"


async def test_show_progress_prints_only_when_asked(
    sleeps: List[float], capsys: pytest.CaptureFixture[str]
) -> None:
    requests: List[httpx.Request] = []
    version_body = {"pipelineConfigurationVersionId": "ver_1", "pipelineId": "pip_1"}
    done = execution_body("completed", currentStep=2, totalSteps=2)
    done["progressData"] = {"message": "Completed in 0.1 s"}
    async with scripted_client([done], requests) as client:
        version = client._cast(PipelineConfigurationVersionAsyncModel, version_body)
        await version.execute(pipeline_input={"a": 1}, block=True)
        assert capsys.readouterr().out == ""
        await version.execute(pipeline_input={"a": 1}, block=True, show_progress=True)
        assert capsys.readouterr().out == (
            "Pipeline execution completed (100%): Completed in 0.1 s\n"
        )
    created = [json.loads(r.content) for r in requests if r.method == "POST"]
    assert (
        created
        == [
            {
                "pipelineConfigurationVersionId": "ver_1",
                "pipelineInput": {"a": 1},
                "pipelineInputSummary": "Execution started from the SDK",
            }
        ]
        * 2
    )


async def test_join_of_datasets_made_through_the_sdk(admin: Any) -> None:
    """Two datasets uploaded and typed through the SDK, joined by a pipeline (issue 5)."""
    async with connect(admin) as client:
        customers = await client.datasets.create(name=unique("customers"))
        await customers.upload_data(b"id,name\n1,Ada\n2,Grace\n3,Linus\n", filename="c.csv")
        await customers.create_schema(
            [{"name": "id", "type": "int"}, {"name": "name", "type": "string"}],
            status="current",
        )
        orders = await client.datasets.create(name=unique("orders"))
        await orders.upload_data(b"customer_id,amount\n1,9.5\n1,3\n2,7.25\n", filename="o.csv")
        await orders.create_schema(
            [{"name": "customer_id", "type": "int"}, {"name": "amount", "type": "float"}],
            status="current",
        )
        dataset_input = {"json_schema": {"type": "string", "format": "dataset"}}
        join = {
            "base_dataset": "customers",
            "joins": [
                {
                    "dataset": "orders",
                    "left_key": "customers.id",
                    "right_key": "customer_id",
                    "join_type": "left",
                }
            ],
            "output_columns": [
                {"name": "name", "source": "customers.name", "type": "string"},
                {"name": "amount", "source": "orders.amount", "type": "number", "nullable": True},
            ],
        }
        configuration = graph(
            {
                "customers": ("input", dataset_input),
                "orders": ("input", dataset_input),
                "joined": ("join", join),
                "out": ("output", {"name": "rows"}),
            },
            [
                ("customers", "data", "joined", "customers"),
                ("orders", "data", "joined", "orders"),
                ("joined", "data", "out", "data"),
            ],
            name="join",
        )
        pipeline = await client.pipelines.create(name=unique("join"))
        version = await pipeline.create_configuration_version(configuration=configuration)
        execution = await version.execute(
            pipeline_input={"customers": customers.dataset_id, "orders": orders.dataset_id},
            block=True,
            **FAST,
        )
        assert await execution.get_output() == {
            "rows": [
                {"name": "Ada", "amount": 9.5},
                {"name": "Ada", "amount": 3.0},
                {"name": "Grace", "amount": 7.25},
                {"name": "Linus", "amount": None},
            ]
        }
        await pipeline.delete()
        await customers.delete()
        await orders.delete()
