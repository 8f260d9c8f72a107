"""Pipeline executions over HTTP (in-process app, SQLite and PostgreSQL): create rules, lists,
PATCH transitions, cancel, output, Idempotency-Key, and restart recovery
(docs/reference/api.md, Pipeline executions)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_helpers import Account, assert_error, client_for, wait_for_status
from fastapi import FastAPI
from pipelines_helpers import (
    SLEEP,
    SPIN,
    echo_configuration,
    graph,
    run_configuration,
    sleep_chain,
    wait_terminal,
)
from sqlalchemy import select, update

from moderately.app import create_app
from moderately.config import Settings
from moderately.db.models import Job, PipelineConfigurationVersion, PipelineExecution
from moderately.services import operator
from moderately.timeutil import utcnow

pytestmark = pytest.mark.anyio


async def wait_running_block(client: Any, execution_id: str, block_id: str) -> dict[str, Any]:
    """Poll until the execution's progress shows `block_id` running (written by its worker)."""
    deadline = time.monotonic() + 20
    while True:
        record: dict[str, Any] = (await client.get(f"/pipeline-executions/{execution_id}")).json()
        if block_id in (record.get("progressData") or {}).get("running_blocks", []):
            return record
        assert time.monotonic() < deadline, record
        await asyncio.sleep(0.02)


async def job_of(database: Any, execution_id: str) -> str:
    async with database.session(write=False) as session:
        rows = (await session.execute(select(Job.job_id, Job.payload))).all()
    return next(r.job_id for r in rows if r.payload.get("pipelineExecutionId") == execution_id)


async def wait_job_finished(database: Any, job_id: str, *, within: float) -> None:
    """The job's worker is done with it: its process ended (the row leaves `running`)."""
    deadline = time.monotonic() + within
    while True:
        async with database.session(write=False) as session:
            status = await session.scalar(select(Job.status).where(Job.job_id == job_id))
        if status != "running":
            return
        assert time.monotonic() < deadline, f"job {job_id} still running after {within} s"
        await asyncio.sleep(0.05)


async def make_version(account: Account, configuration: dict[str, Any], name: str) -> str:
    pipeline = (await account.client.post("/pipelines", json={"name": name})).json()
    version = await account.client.post(
        "/pipeline-configuration-versions",
        json={"pipelineId": pipeline["pipelineId"], "configuration": configuration},
    )
    assert version.status_code == 201, version.text
    return str(version.json()["pipelineConfigurationVersionId"])


def run_body(version_id: str, pipeline_input: Any, **extra: Any) -> dict[str, Any]:
    return {
        "pipelineConfigurationVersionId": version_id,
        "pipelineInput": pipeline_input,
        "pipelineInputSummary": "test",
        **extra,
    }


async def test_echo_record_lists_and_metrics(alice: Account) -> None:
    version_id = await make_version(alice, echo_configuration(), "echo-record")
    created = await alice.client.post(
        "/pipeline-executions", json=run_body(version_id, {"user_input": "hi"})
    )
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["status"] == "pending" and record["progressData"] == {}
    assert (record["currentStep"], record["totalSteps"]) == (0, 2)
    for key in ("pipelineOutput", "pipelineOutputSummary", "pipelineOutputFileUri", "startedAt"):
        assert record[key] is None
    done = await wait_terminal(alice.client, record["pipelineExecutionId"])
    assert done["status"] == "completed", done["progressData"]
    assert done["pipelineOutput"] == {"echoed_message": "hi"}
    assert done["currentStep"] == done["totalSteps"] == 2
    assert done["startedAt"] and done["completedAt"]
    output = (
        await alice.client.get(f"/pipeline-executions/{record['pipelineExecutionId']}/output")
    ).json()
    assert output == {
        "type": "inline",
        "data": {"echoed_message": "hi"},
        "summary": "echoed_message: hi",
    }
    pipeline = (await alice.client.get(f"/pipelines/{record['pipelineId']}")).json()
    assert (pipeline["totalRuns"], pipeline["successfulRuns"], pipeline["successRate"]) == (
        1,
        1,
        100,
    )
    assert pipeline["lastRunAt"] == record["createdAt"]
    for params in (
        {"pipelineIds": record["pipelineId"]},
        {"pipelineConfigurationVersionIds": version_id, "status": "completed"},
        {"pipelineExecutionIds": record["pipelineExecutionId"], "statuses": "completed,failed"},
    ):
        listed = (await alice.client.get("/pipeline-executions", params=params)).json()
        assert [e["pipelineExecutionId"] for e in listed["items"]] == [
            record["pipelineExecutionId"]
        ]
    none = await alice.client.get(
        "/pipeline-executions", params={"pipelineIds": record["pipelineId"], "statuses": "failed"}
    )
    assert none.json()["items"] == []
    assert_error(await alice.client.get("/pipeline-executions", params={"statuses": "x"}), 400)
    by_start = await alice.client.get(
        "/pipeline-executions", params={"orderBy": "startedAt", "orderDirection": "desc"}
    )
    assert by_start.status_code == 200
    # A finished execution cannot be cancelled: 409, final.
    cancel = await alice.client.post(
        f"/pipeline-executions/{record['pipelineExecutionId']}/cancel", json={"reason": "late"}
    )
    assert_error(cancel, 409)


async def test_bad_requests(alice: Account, bob: Account) -> None:
    version_id = await make_version(alice, echo_configuration(), "echo-bad")
    wrong_type = await alice.client.post(
        "/pipeline-executions", json=run_body(version_id, {"user_input": 5})
    )
    body = assert_error(wrong_type, 400, "invalid_pipeline_input")
    assert body["details"][0]["field"] == "user_input"
    missing = await alice.client.post("/pipeline-executions", json=run_body(version_id, {}))
    assert_error(missing, 400, "invalid_pipeline_input")
    unknown = await alice.client.post("/pipeline-executions", json=run_body("nosuchversion", {}))
    assert_error(unknown, 404)
    dangling = echo_configuration()
    dangling["connections"][0]["target_block_id"] = "nowhere"
    bad_version = await make_version(alice, dangling, "echo-dangling")
    invalid = await alice.client.post(
        "/pipeline-executions", json=run_body(bad_version, {"user_input": "x"})
    )
    body = assert_error(invalid, 400, "invalid_pipeline_configuration")
    assert body["details"][0]["errorType"] == "unknown_target_block"
    too_long = await alice.client.post(
        "/pipeline-executions",
        json={**run_body(version_id, {"user_input": "x"}), "pipelineInputSummary": "x" * 1001},
    )
    assert_error(too_long, 400)
    # format: file / dataset references must exist in the caller's team.
    refs = graph(
        {
            "doc": ("input", {"json_schema": {"type": "string", "format": "file"}}),
            "table": ("input", {"json_schema": {"type": "string", "format": "dataset"}}),
            "out": ("output", {}),
        },
        [("doc", "data", "out", "data")],
    )
    refs_version = await make_version(alice, refs, "refs")
    bobs_dataset = (await bob.client.post("/datasets", json={"name": "bobs"})).json()["datasetId"]
    refused = await alice.client.post(
        "/pipeline-executions",
        json=run_body(refs_version, {"doc": "nosuchfile", "table": bobs_dataset}),
    )
    body = assert_error(refused, 400, "invalid_pipeline_input")
    assert {d["field"] for d in body["details"]} == {"doc", "table"}


async def test_output_of_an_unfinished_execution_is_404(alice: Account, app: FastAPI) -> None:
    version_id = await make_version(alice, echo_configuration(), "echo-pending")
    async with app.state.database.session() as session:
        version = await session.get(PipelineConfigurationVersion, version_id)
        assert version is not None
        row = PipelineExecution(
            pipeline_configuration_version_id=version_id,
            pipeline_id=version.pipeline_id,
            team_id=version.team_id,
            status="pending",
            pipeline_input={"user_input": "x"},
            pipeline_input_summary="x",
            progress_data={},
        )
        session.add(row)
        await session.flush()
        execution_id = row.pipeline_execution_id
    assert_error(await alice.client.get(f"/pipeline-executions/{execution_id}/output"), 404)
    # Pending → cancelled at once, with the reason kept.
    cancelled = await alice.client.post(
        f"/pipeline-executions/{execution_id}/cancel", json={"reason": "not needed"}
    )
    assert cancelled.status_code == 200, cancelled.text
    record = cancelled.json()
    assert record["status"] == "cancelled" and record["cancelledAt"]
    assert record["progressData"]["cancellationReason"] == "not needed"
    assert_error(await alice.client.get(f"/pipeline-executions/{execution_id}/output"), 404)
    again = await alice.client.patch(
        f"/pipeline-executions/{execution_id}", json={"status": "running"}
    )
    assert_error(again, 400)


async def test_patch_follows_the_transitions(alice: Account, app: FastAPI) -> None:
    version_id = await make_version(alice, echo_configuration(), "echo-patch")
    done = await run_configuration(
        alice.client, echo_configuration(), {"user_input": "p"}, "echo-patch-2"
    )
    assert done["status"] == "completed"
    out_of_terminal = await alice.client.patch(
        f"/pipeline-executions/{done['pipelineExecutionId']}", json={"status": "running"}
    )
    assert_error(out_of_terminal, 400)
    progress = await alice.client.patch(
        f"/pipeline-executions/{done['pipelineExecutionId']}",
        json={"progressData": {"message": "note"}, "currentStep": 2},
    )
    assert progress.status_code == 200 and progress.json()["progressData"] == {"message": "note"}
    assert version_id


@pytest.mark.parametrize("kind", [SLEEP, SPIN])
async def test_cancel_a_running_execution(alice: Account, database: Any, kind: str) -> None:
    """A cooperative block stops by itself; one busy on the CPU is ended by its worker. Either
    way the run's process is gone within two seconds and no block starts after the cancel."""
    version_id = await make_version(alice, sleep_chain(30.0, kind=kind), f"sleepy-{kind}")
    created = (
        await alice.client.post("/pipeline-executions", json=run_body(version_id, {"in": "x"}))
    ).json()
    execution_id = created["pipelineExecutionId"]
    # Also while a block holds its process's loop: the watcher writes from a thread of its own.
    await wait_running_block(alice.client, execution_id, "sleep_1")
    cancelled = await alice.client.post(f"/pipeline-executions/{execution_id}/cancel", json={})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    job = await job_of(database, execution_id)
    await wait_job_finished(database, job, within=2.0)
    record = (await alice.client.get(f"/pipeline-executions/{execution_id}")).json()
    assert record["status"] == "cancelled" and record["pipelineOutput"] is None
    assert record["progressData"]["running_blocks"] == []  # nothing is left running
    if kind == SLEEP:  # the run stopped by itself: its final block states
        blocks = record["progressData"]["blocks"]
        assert blocks["sleep_1"]["status"] == "cancelled"
        assert blocks["sleep_2"]["status"] == blocks["sleep_3"]["status"] == "pending"
        assert record["progressData"]["message"] == "Cancelled: cancelled by request"


async def test_idempotent_create(alice: Account) -> None:
    version_id = await make_version(alice, echo_configuration(), "echo-idem")
    headers = {"Idempotency-Key": "run-once-123"}
    body = run_body(version_id, {"user_input": "once"})
    first = await alice.client.post("/pipeline-executions", json=body, headers=headers)
    second = await alice.client.post("/pipeline-executions", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["pipelineExecutionId"] == second.json()["pipelineExecutionId"]
    listed = await alice.client.get(
        "/pipeline-executions", params={"pipelineConfigurationVersionIds": version_id}
    )
    assert listed.json()["pagination"]["totalItems"] == 1


# ---- restarts ----


async def _admin(app: FastAPI) -> Any:
    async with app.state.database.session() as session:
        return await operator.create_user_with_token(
            session, email=f"restart-{time.monotonic_ns()}@example.com", team_name="restart"
        )


async def test_queued_execution_survives_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, workers=0)
    first = create_app(settings)
    async with first.router.lifespan_context(first):
        issued = await _admin(first)
        async with client_for(first, issued.api_key) as client:
            done = await client.post("/pipelines", json={"name": "restart"})
            version = await client.post(
                "/pipeline-configuration-versions",
                json={
                    "pipelineId": done.json()["pipelineId"],
                    "configuration": echo_configuration(),
                },
            )
            created = await client.post(
                "/pipeline-executions",
                json=run_body(
                    version.json()["pipelineConfigurationVersionId"], {"user_input": "later"}
                ),
            )
            execution_id = created.json()["pipelineExecutionId"]
            await asyncio.sleep(0.3)
            assert (await client.get(f"/pipeline-executions/{execution_id}")).json()[
                "status"
            ] == "pending"
    second = create_app(Settings(data_dir=tmp_path, workers=1))
    async with (
        second.router.lifespan_context(second),
        client_for(second, issued.api_key) as client,
    ):
        finished = await wait_terminal(client, execution_id)
        assert finished["status"] == "completed"
        assert finished["pipelineOutput"] == {"echoed_message": "later"}


@pytest.mark.parametrize("attempts_left", [True, False])
async def test_running_execution_with_an_expired_lease(tmp_path: Path, attempts_left: bool) -> None:
    """A worker died mid-run: its lease expires; the execution is retried (attempts left) or
    failed with `worker_lost` (none left). Never left running."""
    settings = Settings(data_dir=tmp_path, workers=0)
    first = create_app(settings)
    async with first.router.lifespan_context(first):
        issued = await _admin(first)
        async with client_for(first, issued.api_key) as client:
            pipeline = await client.post("/pipelines", json={"name": "lost"})
            version = await client.post(
                "/pipeline-configuration-versions",
                json={
                    "pipelineId": pipeline.json()["pipelineId"],
                    "configuration": echo_configuration(),
                },
            )
            created = await client.post(
                "/pipeline-executions",
                json=run_body(
                    version.json()["pipelineConfigurationVersionId"], {"user_input": "again"}
                ),
            )
            execution_id = created.json()["pipelineExecutionId"]
        # What a worker killed mid-run leaves behind.
        async with first.state.database.session() as session:
            await session.execute(
                update(Job).values(
                    status="running",
                    attempts=1 if attempts_left else 3,
                    worker_id="dead-worker",
                    lease_expires_at=utcnow() - timedelta(seconds=5),
                )
            )
            await session.execute(
                update(PipelineExecution)
                .where(PipelineExecution.pipeline_execution_id == execution_id)
                .values(status="running", runner_id="dead", started_at=utcnow())
            )
    second = create_app(Settings(data_dir=tmp_path, workers=1))
    async with (
        second.router.lifespan_context(second),
        client_for(second, issued.api_key) as client,
    ):
        finished = await wait_terminal(client, execution_id)
    if attempts_left:
        assert finished["status"] == "completed", finished
    else:
        assert finished["status"] == "failed"
        assert finished["progressData"]["error_type"] == "worker_lost"
        assert finished["failedAt"]


async def test_pause_and_resume(alice: Account, database: Any) -> None:
    """PATCH paused stops scheduling (the running block finishes, its output is kept); PATCH
    running queues it again and the run continues where it stopped."""
    version_id = await make_version(alice, sleep_chain(0.6), "pausable")
    created = await alice.client.post(
        "/pipeline-executions", json=run_body(version_id, {"in": "kept"})
    )
    execution_id = created.json()["pipelineExecutionId"]
    await wait_running_block(alice.client, execution_id, "sleep_1")
    paused = await alice.client.patch(
        f"/pipeline-executions/{execution_id}", json={"status": "paused"}
    )
    assert paused.status_code == 200 and paused.json()["pausedAt"]
    # Until the job's process has written its checkpoint and ended (no fixed sleep: a loaded
    # machine takes longer).
    await wait_job_finished(database, await job_of(database, execution_id), within=30.0)
    record = (await alice.client.get(f"/pipeline-executions/{execution_id}")).json()
    assert record["status"] == "paused"
    assert record["progressData"]["completed_blocks"] == ["in", "sleep_1"]
    assert not record["progressData"]["running_blocks"]
    resumed = await alice.client.patch(
        f"/pipeline-executions/{execution_id}", json={"status": "running"}
    )
    assert resumed.status_code == 200
    done = await wait_terminal(alice.client, execution_id)
    assert done["status"] == "completed" and done["pipelineOutput"] == {"result": "kept"}
    completed = done["progressData"]["completed_blocks"]
    assert completed == ["in", "sleep_1", "sleep_2", "sleep_3", "out"]


async def test_pause_lands_on_a_block_busy_on_the_cpu(alice: Account, database: Any) -> None:
    """The engine can't pause while a block holds its loop: the worker ends the process within
    two seconds, the execution stays paused with nothing running, and a resume runs it again."""
    version_id = await make_version(alice, sleep_chain(3.0, length=1, kind=SPIN), "busy-pause")
    created = await alice.client.post(
        "/pipeline-executions", json=run_body(version_id, {"in": "again"})
    )
    execution_id = created.json()["pipelineExecutionId"]
    await wait_for_status(alice.client, f"/pipeline-executions/{execution_id}", ("running",))
    await asyncio.sleep(0.3)
    paused = await alice.client.patch(
        f"/pipeline-executions/{execution_id}", json={"status": "paused"}
    )
    assert paused.status_code == 200
    job = await job_of(database, execution_id)
    await wait_job_finished(database, job, within=2.0)
    record = (await alice.client.get(f"/pipeline-executions/{execution_id}")).json()
    assert record["status"] == "paused" and record["progressData"]["running_blocks"] == []
    resumed = await alice.client.patch(
        f"/pipeline-executions/{execution_id}", json={"status": "running"}
    )
    assert resumed.status_code == 200
    done = await wait_terminal(alice.client, execution_id)
    assert done["status"] == "completed" and done["pipelineOutput"] == {"result": "again"}
