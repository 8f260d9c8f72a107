"""Agent executions over HTTP (SQLite and PostgreSQL): both create body forms, input validation,
lists and paging, metrics, cancel/pause/resume, delete, memory states and the live tail, and the
worker job's record and endings (docs/reference/api.md, Agent executions; docs/agents.md).

The app here runs no workers (its own database), so an execution stays where a test puts it; the
job's parts are driven the way a worker drives them: claimed through the lifecycle with a runner
id, `DbAgentHost.record` per step, `finish` with the run's outcome, `gave_up` and `stopped` from
the worker. A run of the real runtime against the loopback LLM server is in
test_agent_runs.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from agents_helpers import (
    current_version,
    make_agent,
    readonly_client,
    readonly_token,
    version_body,
    wait_agent_terminal,
)
from api_helpers import (
    Account,
    assert_error,
    client_for,
    empty_database,
    new_account,
    unique_email,
)
from fastapi import FastAPI
from sqlalchemy import func, select, update

from moderately.agents.host import AgentOutcome
from moderately.app import create_app
from moderately.config import Settings
from moderately.db.models import (
    AgentExecution,
    AgentExecutionMemoryState,
    File,
    Job,
)
from moderately.db.session import Database
from moderately.jobs.agent_execute import JOB, finish, gave_up, stopped
from moderately.jobs.agent_host import DbAgentHost
from moderately.jobs.base import Stop
from moderately.jobs.pipeline_context import RunSignals
from moderately.services.transfers import Storage
from moderately.timeutil import utcnow
from moderately.workers.base import Job as QueuedJob

pytestmark = pytest.mark.anyio

EXECUTIONS = "/agent-executions"
OWNER = "job-under-test:1"


# ---- an app without workers, on a database of its own ----


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def idle_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with empty_database(request.param, tmp_path_factory, "agents-sqlite") as url:
        yield url


@pytest.fixture(scope="module")
async def idle_app(
    idle_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("agents-data"), database_url=idle_url, workers=0
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def _account(app: FastAPI) -> Account:
    return await new_account(app, email=unique_email("agents"))


@pytest.fixture
async def carol(idle_app: FastAPI) -> AsyncIterator[Account]:
    account = await _account(idle_app)
    async with account.client:
        yield account


@pytest.fixture
async def dave(idle_app: FastAPI) -> AsyncIterator[Account]:
    """Another team: never sees carol's executions."""
    account = await _account(idle_app)
    async with account.client:
        yield account


@pytest.fixture
def db(idle_app: FastAPI) -> Database:
    database: Database = idle_app.state.database
    return database


@pytest.fixture
def storage(idle_app: FastAPI) -> Storage:
    store: Storage = idle_app.state.storage
    return store


async def make_version(account: Account, name: str, **overrides: Any) -> tuple[str, str]:
    """An agent whose current version asks for `{"question": str}` → `(agent id, version id)`."""
    agent_id = (await make_agent(account, name))["agentId"]
    body = version_body(agent_id, 2, isCurrent=True, **overrides)
    created = await account.client.post("/agent-configuration-versions", json=body)
    assert created.status_code == 201, created.text
    return agent_id, created.json()["agentConfigurationVersionId"]


async def start(
    account: Account, version_id: str, question: str = "why?", **extra: Any
) -> dict[str, Any]:
    body = {
        "agentConfigurationVersionId": version_id,
        "agentInput": {"question": question},
        "agentInputSummary": f"asks {question}",
        **extra,
    }
    created = await account.client.post(EXECUTIONS, json=body)
    assert created.status_code == 201, created.text
    record: dict[str, Any] = created.json()
    return record


async def claim(db: Database, execution_id: str, owner: str = OWNER) -> None:
    """What the job does first: pending -> running with its runner id."""
    assert await JOB.claim(db, execution_id, owner) is not None


def host_for(
    db: Database,
    storage: Storage,
    account: Account,
    execution: dict[str, Any],
    scratch: Path,
    signals: RunSignals | None = None,
) -> DbAgentHost:
    """The host the job builds for `execution` (of `account`'s team), as attempt OWNER."""
    return DbAgentHost(
        db,
        storage,
        execution_id=execution["agentExecutionId"],
        team_id=account.team_id,
        runner_id=OWNER,
        scratch=scratch,
        signals=signals or RunSignals(),
        max_file_bytes=1024,
    )


def step(kind: str, payload: Any) -> dict[str, Any]:
    key = {"fact": "facts", "final_answer": "finalAnswer"}.get(kind, kind)
    return {
        "stepType": kind,
        key: payload,
        "startedAt": None,
        "endedAt": None,
        "summary": str(payload)[:50],
    }


async def set_status(db: Database, execution_id: str, **values: Any) -> None:
    async with db.session() as session:
        await session.execute(
            update(AgentExecution)
            .where(AgentExecution.agent_execution_id == execution_id)
            .values(**values)
        )


async def jobs_for(db: Database, execution_id: str) -> list[Job]:
    async with db.session(write=False) as session:
        rows = (await session.scalars(select(Job).where(Job.kind == "agent.execute"))).all()
    return [row for row in rows if row.payload.get("agentExecutionId") == execution_id]


# ---- create ----


async def test_create_with_the_spec_body(carol: Account, db: Database) -> None:
    agent_id, version_id = await make_version(carol, "spec-form")
    record = await start(carol, version_id, maxActions=3)
    assert record["status"] == "pending"
    assert record["agentConfigurationVersionId"] == version_id and record["agentId"] == agent_id
    assert record["agentInput"] == {"question": "why?"}
    assert record["agentInputSummary"] == "asks why?"
    version = await current_version(carol, agent_id)
    assert record["agentInputSchema"] == version["inputSchema"]
    assert record["agentOutputSchema"] == version["outputSchema"]
    # maxActions from the body, planningInterval from the version's executionConfig.
    assert (record["maxActions"], record["planningInterval"]) == (3, 2)
    assert record["thoughts"] == [] and record["currentStep"] is None
    for key in ("agentOutput", "agentOutputSummary", "usage", "startedAt", "completedAt"):
        assert record[key] is None
    # The job was queued in the same transaction.
    (job,) = await jobs_for(db, record["agentExecutionId"])
    assert job.status == "queued" and job.team_id == carol.team_id
    fetched = await carol.client.get(f"{EXECUTIONS}/{record['agentExecutionId']}")
    assert fetched.json() == record
    # Schemas given in the body are the execution's own.
    own = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    custom = await carol.client.post(
        EXECUTIONS,
        json={
            "agentConfigurationVersionId": version_id,
            "agentInput": {"n": 2},
            "agentInputSummary": "n",
            "agentInputSchema": own,
            "agentOutputSchema": {"type": "object"},
            "planningInterval": 1,
        },
    )
    assert custom.status_code == 201, custom.text
    assert custom.json()["agentInputSchema"] == own
    assert (custom.json()["maxActions"], custom.json()["planningInterval"]) == (5, 1)


async def test_create_with_the_0_2_7_body(carol: Account) -> None:
    agent = await make_agent(carol, "Legacy Helper")
    default = await current_version(carol, agent["agentId"])
    created = await carol.client.post(
        EXECUTIONS, json={"agent_id": agent["agentId"], "input_data": {"topic": "x"}}
    )
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["agentConfigurationVersionId"] == default["agentConfigurationVersionId"]
    assert record["agentInput"] == {"topic": "x"}
    assert record["agentInputSummary"] == "Execution of Legacy Helper"
    assert (record["maxActions"], record["planningInterval"]) == (10, 4)
    # input_data is optional; camelCase spellings and our SDK's form work too.
    bare = await carol.client.post(EXECUTIONS, json={"agent_id": agent["agentId"]})
    assert bare.status_code == 201 and bare.json()["agentInput"] == {}
    ours = await carol.client.post(
        EXECUTIONS,
        json={
            "agentConfigurationVersionId": default["agentConfigurationVersionId"],
            "agentId": agent["agentId"],
            "inputData": {"a": 1},
        },
    )
    assert ours.status_code == 201 and ours.json()["agentInput"] == {"a": 1}
    # A newer current version is what agent_id runs.
    newer = await carol.client.post(
        "/agent-configuration-versions",
        json=version_body(agent["agentId"], 2, isCurrent=True),
    )
    again = await carol.client.post(
        EXECUTIONS, json={"agent_id": agent["agentId"], "input_data": {"question": "q"}}
    )
    assert (
        again.json()["agentConfigurationVersionId"] == newer.json()["agentConfigurationVersionId"]
    )


async def test_create_refusals(carol: Account, dave: Account) -> None:
    agent_id, version_id = await make_version(carol, "refusals")
    wrong = await carol.client.post(
        EXECUTIONS,
        json={
            "agentConfigurationVersionId": version_id,
            "agentInput": {"question": 5},
            "agentInputSummary": "s",
        },
    )
    body = assert_error(wrong, 400, "invalid_agent_input")
    assert body["details"][0]["field"] == "agentInput/question" and body["details"][0]["value"] == 5
    missing = await carol.client.post(EXECUTIONS, json={"agent_id": agent_id, "input_data": {}})
    body = assert_error(missing, 400, "invalid_agent_input")
    assert "question" in body["details"][0]["message"]
    bad_schema = await carol.client.post(
        EXECUTIONS,
        json={"agent_id": agent_id, "input_data": {}, "agentInputSchema": {"type": 7}},
    )
    assert_error(bad_schema, 400, "invalid_agent_configuration")
    for extra in (
        {"maxActions": 0},
        {"maxActions": 101},
        {"planningInterval": 51},
        {"agentInputSummary": "x" * 501},
        {"agentInputSummary": ""},
        {"agentInput": [1]},
    ):
        response = await carol.client.post(
            EXECUTIONS,
            json={
                "agentConfigurationVersionId": version_id,
                "agentInput": {"question": "q"},
                **extra,
            },
        )
        assert_error(response, 400)
    assert_error(await carol.client.post(EXECUTIONS, json={"agentInput": {}}), 400)
    other_agent = (await make_agent(carol, "refusals-other"))["agentId"]
    mismatch = await carol.client.post(
        EXECUTIONS,
        json={
            "agentConfigurationVersionId": version_id,
            "agentId": other_agent,
            "agentInput": {"question": "q"},
        },
    )
    assert_error(mismatch, 400)
    assert_error(
        await carol.client.post(
            EXECUTIONS, json={"agentConfigurationVersionId": "nosuchversion", "agentInput": {}}
        ),
        404,
    )
    assert_error(await carol.client.post(EXECUTIONS, json={"agent_id": "nosuchagent"}), 404)
    # Another team's agent and version are not found.
    assert_error(await dave.client.post(EXECUTIONS, json={"agent_id": agent_id}), 404)
    assert_error(
        await dave.client.post(
            EXECUTIONS,
            json={"agentConfigurationVersionId": version_id, "agentInput": {"question": "q"}},
        ),
        404,
    )
    # An agent without a current version cannot run by agent id.
    version = await current_version(carol, agent_id)
    await carol.client.patch(
        f"/agent-configuration-versions/{version['agentConfigurationVersionId']}",
        json={"isCurrent": False},
    )
    assert_error(
        await carol.client.post(
            EXECUTIONS, json={"agent_id": agent_id, "input_data": {"question": "q"}}
        ),
        400,
    )
    listed = await carol.client.get(EXECUTIONS, params={"agentIds": agent_id})
    assert listed.json()["pagination"]["totalItems"] == 0  # nothing was made


# ---- lists, paging, metrics ----


async def test_lists_filters_and_paging(carol: Account, db: Database) -> None:
    first_agent, first_version = await make_version(carol, "lists-a")
    second_agent, second_version = await make_version(carol, "lists-b")
    made = [await start(carol, first_version, f"q{i}") for i in range(3)]
    made.append(await start(carol, second_version, "other"))
    ids = [e["agentExecutionId"] for e in made]
    await set_status(
        db, ids[0], status="completed", agent_output={"answer": "a"}, started_at=utcnow()
    )
    await set_status(db, ids[1], status="failed", started_at=utcnow())

    async def listed(**params: Any) -> list[str]:
        response = await carol.client.get(EXECUTIONS, params=params)
        assert response.status_code == 200, response.text
        return [e["agentExecutionId"] for e in response.json()["items"]]

    # Newest first by default.
    assert await listed(agentIds=f"{first_agent},{second_agent}") == ids[::-1]
    assert await listed(agent_id=first_agent) == ids[2::-1]  # 0.2.7's spelling
    assert await listed(agentIds=first_agent, statuses="completed,failed") == [ids[1], ids[0]]
    assert await listed(agent_id=first_agent, status="pending") == [ids[2]]  # 0.2.7's spelling
    assert await listed(agentIds=first_agent, hasAgentOutput="true") == [ids[0]]
    assert await listed(agentIds=first_agent, hasAgentOutput="false") == [ids[2], ids[1]]
    assert await listed(agentConfigurationVersionIds=second_version) == [ids[3]]
    assert await listed(agentExecutionIds=f"{ids[0]},{ids[3]}") == [ids[3], ids[0]]
    assert await listed(agentIds=first_agent, orderBy="createdAt", orderDirection="asc") == ids[:3]
    assert (
        await listed(agent_id=first_agent, order_by="created_at", order_direction="asc") == ids[:3]
    )
    page = await carol.client.get(
        EXECUTIONS, params={"agentIds": first_agent, "page_size": 2, "page": 2}
    )
    assert [e["agentExecutionId"] for e in page.json()["items"]] == [ids[0]]
    assert page.json()["pagination"] == {
        "page": 2, "pageSize": 2, "totalItems": 3, "totalPages": 2,
        "hasNextPage": False, "hasPreviousPage": True,
    }  # fmt: skip
    default = await carol.client.get(EXECUTIONS)
    assert default.json()["pagination"]["pageSize"] == 20
    for params in (
        {"pageSize": 101},
        {"pageSize": 0},
        {"page": 0},
        {"statuses": "done"},
        {"orderBy": "name"},
        {"hasAgentOutput": "perhaps"},
    ):
        assert_error(await carol.client.get(EXECUTIONS, params=params), 400)


async def test_agent_metrics(carol: Account, db: Database) -> None:
    agent_id, version_id = await make_version(carol, "metrics")
    idle_id = (await make_agent(carol, "metrics-idle"))["agentId"]
    made = [await start(carol, version_id, f"m{i}") for i in range(4)]
    started = [utcnow() - timedelta(minutes=m) for m in (30, 20, 10)]
    await set_status(db, made[0]["agentExecutionId"], status="completed", started_at=started[0])
    await set_status(db, made[1]["agentExecutionId"], status="completed", started_at=started[2])
    await set_status(db, made[2]["agentExecutionId"], status="failed", started_at=started[1])
    agent = (await carol.client.get(f"/agents/{agent_id}")).json()
    assert (agent["totalRuns"], agent["successfulRuns"], agent["successRate"]) == (4, 2, 50)
    # lastRunAt is the latest startedAt (a pending run has none).
    fetched = (await carol.client.get(f"{EXECUTIONS}/{made[1]['agentExecutionId']}")).json()
    assert agent["lastRunAt"] == fetched["startedAt"]
    listed = (
        await carol.client.get(
            "/agents", params={"agentIds": f"{agent_id},{idle_id}", "orderBy": "name"}
        )
    ).json()
    by_id = {a["agentId"]: a for a in listed["items"]}
    assert by_id[agent_id]["totalRuns"] == 4 and by_id[agent_id]["successRate"] == 50
    assert (
        by_id[idle_id]["totalRuns"],
        by_id[idle_id]["successRate"],
        by_id[idle_id]["lastRunAt"],
    ) == (0, 0, None)


# ---- cancel, pause, resume, delete ----


async def test_cancel(carol: Account, db: Database) -> None:
    _, version_id = await make_version(carol, "cancels")
    pending = await start(carol, version_id)
    path = f"{EXECUTIONS}/{pending['agentExecutionId']}/cancel"
    cancelled = await carol.client.post(path, json={"reason": "not needed"})
    assert cancelled.status_code == 200, cancelled.text
    record = cancelled.json()
    assert record["status"] == "cancelled" and record["cancelledAt"]
    assert record["agentOutputSummary"] == "Cancelled: not needed"
    assert_error(await carol.client.post(path), 409)  # already finished
    assert_error(await carol.client.patch(path), 409)
    # 0.2.7's async client: PATCH .../cancel without a body.
    other = await start(carol, version_id)
    patched = await carol.client.patch(f"{EXECUTIONS}/{other['agentExecutionId']}/cancel")
    assert patched.status_code == 200 and patched.json()["status"] == "cancelled"
    assert patched.json()["agentOutputSummary"] == "Cancelled: cancelled by request"
    # Running and paused ones too; PATCH status: cancelled is the same cancel.
    running = await start(carol, version_id)
    await claim(db, running["agentExecutionId"])
    by_status = await carol.client.patch(
        f"{EXECUTIONS}/{running['agentExecutionId']}", json={"status": "cancelled"}
    )
    assert by_status.status_code == 200 and by_status.json()["status"] == "cancelled"
    paused = await start(carol, version_id)
    await claim(db, paused["agentExecutionId"])
    await carol.client.patch(
        f"{EXECUTIONS}/{paused['agentExecutionId']}", json={"status": "paused"}
    )
    assert (await carol.client.post(f"{EXECUTIONS}/{paused['agentExecutionId']}/cancel")).json()[
        "status"
    ] == "cancelled"
    # A finished execution: 409 (final), by either route.
    done = await start(carol, version_id)
    await set_status(db, done["agentExecutionId"], status="completed")
    assert_error(await carol.client.post(f"{EXECUTIONS}/{done['agentExecutionId']}/cancel"), 409)
    assert_error(
        await carol.client.patch(
            f"{EXECUTIONS}/{done['agentExecutionId']}", json={"status": "cancelled"}
        ),
        409,
    )
    assert_error(await carol.client.post(f"{EXECUTIONS}/nosuchexecution/cancel"), 404)
    assert_error(await carol.client.post(path, json={"reason": "x" * 501}), 400)


async def test_pause_and_resume(carol: Account, db: Database) -> None:
    _, version_id = await make_version(carol, "pauses")
    record = await start(carol, version_id)
    path = f"{EXECUTIONS}/{record['agentExecutionId']}"
    # Only a running execution pauses.
    assert_error(await carol.client.patch(path, json={"status": "paused"}), 400)
    await claim(db, record["agentExecutionId"])
    paused = await carol.client.patch(path, json={"status": "paused"})
    assert (
        paused.status_code == 200
        and paused.json()["status"] == "paused"
        and paused.json()["pausedAt"]
    )
    assert len(await jobs_for(db, record["agentExecutionId"])) == 1
    resumed = await carol.client.patch(path, json={"status": "running"})
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    assert resumed.json()["startedAt"] == paused.json()["startedAt"]  # the first start is kept
    # Resuming queues the run again (it continues from its latest memory state).
    assert len(await jobs_for(db, record["agentExecutionId"])) == 2
    unchanged = await carol.client.patch(path, json={})
    assert unchanged.json()["status"] == "running"
    assert_error(await carol.client.patch(path, json={"status": "completed"}), 400)
    await set_status(db, record["agentExecutionId"], status="failed")
    assert_error(await carol.client.patch(path, json={"status": "running"}), 400)


async def test_delete_and_readonly(
    carol: Account, db: Database, storage: Storage, tmp_path: Path
) -> None:
    _, version_id = await make_version(carol, "deletes")
    record = await start(carol, version_id)
    execution_id = record["agentExecutionId"]
    await claim(db, execution_id)
    await host_for(db, storage, carol, record, tmp_path).record({"steps": [step("task", "t")]})
    async with readonly_client(carol, await readonly_token(carol)) as readonly:
        assert (await readonly.get(f"{EXECUTIONS}/{execution_id}")).status_code == 200
        assert_error(
            await readonly.post(
                EXECUTIONS,
                json={
                    "agentConfigurationVersionId": version_id,
                    "agentInput": {"question": "q"},
                    "agentInputSummary": "s",
                },
            ),
            403,
        )
        assert_error(await readonly.post(f"{EXECUTIONS}/{execution_id}/cancel"), 403)
        assert_error(
            await readonly.patch(f"{EXECUTIONS}/{execution_id}", json={"status": "paused"}), 403
        )
        assert_error(await readonly.delete(f"{EXECUTIONS}/{execution_id}"), 403)
    deleted = await carol.client.delete(f"{EXECUTIONS}/{execution_id}")
    assert deleted.status_code == 200
    assert deleted.json() == {"success": True, "message": "agent execution deleted"}
    assert_error(await carol.client.get(f"{EXECUTIONS}/{execution_id}"), 404)
    assert_error(await carol.client.get(f"{EXECUTIONS}/{execution_id}/live-tail"), 404)
    assert_error(await carol.client.delete(f"{EXECUTIONS}/{execution_id}"), 404)
    async with db.session(write=False) as session:
        left = await session.scalar(
            select(func.count()).where(AgentExecutionMemoryState.agent_execution_id == execution_id)
        )
    assert left == 0
    # A run whose execution is gone writes nothing more and is told to stop.
    signals = RunSignals()
    await host_for(db, storage, carol, record, tmp_path, signals).record(
        {"steps": []}, thought="late"
    )
    assert signals.cancel


# ---- the run's record: memory states and the live tail ----


async def test_memory_states_and_live_tail(
    carol: Account, dave: Account, db: Database, storage: Storage, tmp_path: Path
) -> None:
    _, version_id = await make_version(carol, "memory")
    record = await start(carol, version_id)
    execution_id = record["agentExecutionId"]
    base = f"{EXECUTIONS}/{execution_id}"
    empty = (await carol.client.get(f"{base}/live-tail")).json()
    assert empty == {
        "execution": {
            "agentExecutionId": execution_id, "status": "pending", "currentStep": None,
            "createdAt": record["createdAt"], "updatedAt": record["updatedAt"],
            "startedAt": None, "completedAt": None,
        },
        "latestMemoryState": None, "steps": [], "totalVersions": 0,
    }  # fmt: skip
    await claim(db, execution_id)
    host = host_for(db, storage, carol, record, tmp_path)
    steps: list[dict[str, Any]] = [step("system", "rules"), step("task", "why?")]
    await host.record({"steps": list(steps), "action_count": 0})
    for n in range(1, 4):
        steps += [step("thought", f"thinking {n}"), step("code", f"GetDateTool({{}}) #{n}")]
        await host.record(
            {
                "steps": list(steps),
                "action_count": n,
                "usage": {"input_tokens": 10 * n, "output_tokens": n},
            },
            thought=f"thinking {n}",
            current_step=n,
        )
    execution = (await carol.client.get(base)).json()
    assert execution["status"] == "running" and execution["currentStep"] == 3
    assert [t["text"] for t in execution["thoughts"]] == ["thinking 1", "thinking 2", "thinking 3"]
    assert all(t["createdAt"].endswith("Z") for t in execution["thoughts"])
    assert execution["usage"] == {"input_tokens": 30, "output_tokens": 3}
    tail = (await carol.client.get(f"{base}/live-tail")).json()
    assert tail["totalVersions"] == 4 and tail["steps"] == steps
    assert tail["latestMemoryState"]["version"] == 4
    assert tail["latestMemoryState"]["state"]["steps"] == steps
    assert tail["execution"]["currentStep"] == 3 and tail["execution"]["startedAt"]

    async def versions(**params: Any) -> list[int]:
        response = await carol.client.get(f"{base}/memory-states", params=params)
        assert response.status_code == 200, response.text
        return [s["version"] for s in response.json()["items"]]

    assert await versions() == [1, 2, 3, 4]
    assert await versions(orderBy="version", orderDirection="desc") == [4, 3, 2, 1]
    assert await versions(orderBy="createdAt", orderDirection="desc") == [4, 3, 2, 1]
    assert await versions(pageSize=3, page=2) == [4]
    assert await versions(version=2) == [2]
    assert await versions(latest="true") == [4]
    assert await versions(latest="false") == [1, 2, 3, 4]
    paged = (await carol.client.get(f"{base}/memory-states", params={"pageSize": 2})).json()
    assert paged["pagination"]["totalItems"] == 4 and paged["pagination"]["totalPages"] == 2
    one = (await carol.client.get(f"{base}/memory-states/2")).json()
    assert set(one) == {
        "agentExecutionMemoryStateId",
        "agentExecutionId",
        "state",
        "version",
        "createdAt",
        "updatedAt",
    }
    assert one["version"] == 2 and one["agentExecutionId"] == execution_id
    assert one["state"]["steps"] == steps[:4]
    assert_error(await carol.client.get(f"{base}/memory-states/9"), 404)
    assert_error(await carol.client.get(f"{base}/memory-states/0"), 400)
    assert_error(await carol.client.get(f"{base}/memory-states", params={"orderBy": "state"}), 400)
    for path in (f"{base}/memory-states", f"{base}/memory-states/1", f"{base}/live-tail"):
        assert_error(await dave.client.get(path), 404)


async def test_host_resources_and_digest(
    carol: Account, dave: Account, db: Database, storage: Storage, tmp_path: Path
) -> None:
    _, version_id = await make_version(carol, "host")
    record = await start(carol, version_id)
    await claim(db, record["agentExecutionId"])
    host = host_for(db, storage, carol, record, tmp_path)
    file_id = await host.create_text_file("notes.txt", "line one\nline two\n")
    # A normal completed file of the team: listed, downloadable, readable by the host.
    file = (await carol.client.get(f"/files/{file_id}")).json()
    assert file["uploadStatus"] == "completed" and file["fileName"] == "notes.txt"
    assert file["fileSize"] == len(b"line one\nline two\n")
    assert await host.read_file(file_id) == b"line one\nline two\n"
    assert (await host.get_file(file_id)) is not None
    assert_error(await dave.client.get(f"/files/{file_id}"), 404)
    dataset = (await carol.client.post("/datasets", json={"name": "host-data"})).json()
    resources = {r.resource_id: r for r in await host.list_resources()}
    assert resources[file_id].kind == "file" and resources[file_id].name == "notes.txt"
    assert resources[dataset["datasetId"]].kind == "dataset"
    # Another team's resources are not the host's.
    daves_dataset = (await dave.client.post("/datasets", json={"name": "daves"})).json()
    assert daves_dataset["datasetId"] not in resources
    assert await host.get_dataset(daves_dataset["datasetId"]) is None
    with pytest.raises(ValueError):
        await host.create_text_file("big.txt", "x" * 2048)  # over max_file_bytes
    with pytest.raises(ValueError):
        await host.create_text_file("", "x")
    # The digest of another execution of the team (AskAgentRunTool), none of another team's.
    other = await start(carol, version_id)
    await set_status(
        db,
        other["agentExecutionId"],
        status="completed",
        agent_output={"answer": "42"},
        agent_output_summary="42",
    )
    digest = await host.execution_digest(other["agentExecutionId"])
    assert digest == {
        "status": "completed",
        "agentOutput": {"answer": "42"},
        "agentOutputSummary": "42",
        "steps": [],
    }
    _, daves_version = await make_version(dave, "daves-agent")
    daves = await start(dave, daves_version)
    assert await host.execution_digest(daves["agentExecutionId"]) is None
    async with db.session(write=False) as session:
        created = await session.get(File, file_id)
    assert created is not None and created.team_id == carol.team_id


# ---- the run's endings ----


async def test_endings(carol: Account, db: Database, storage: Storage, tmp_path: Path) -> None:
    _, version_id = await make_version(carol, "endings")
    usage = {"input_tokens": 120, "output_tokens": 30}

    async def running() -> dict[str, Any]:
        record = await start(carol, version_id)
        await claim(db, record["agentExecutionId"])
        await host_for(db, storage, carol, record, tmp_path).record(
            {"steps": [step("task", "why?")]}
        )
        return record

    completed = await running()
    await finish(
        db,
        completed["agentExecutionId"],
        OWNER,
        AgentOutcome("completed", output={"answer": "yes"}, output_summary="yes", usage=usage),
    )
    done = (await carol.client.get(f"{EXECUTIONS}/{completed['agentExecutionId']}")).json()
    assert done["status"] == "completed" and done["completedAt"]
    assert done["agentOutput"] == {"answer": "yes"} and done["agentOutputSummary"] == "yes"
    assert done["usage"] == usage
    # A second ending, or a stale runner's, changes nothing: the first terminal write wins.
    await finish(db, completed["agentExecutionId"], OWNER, AgentOutcome("failed", message="late"))
    await finish(
        db, completed["agentExecutionId"], "someone-else:1", AgentOutcome("failed", message="late")
    )
    assert (await carol.client.get(f"{EXECUTIONS}/{completed['agentExecutionId']}")).json() == done

    failed = await running()
    await finish(
        db,
        failed["agentExecutionId"],
        OWNER,
        AgentOutcome(
            "failed", error_type="llm_call_failed", message="the provider said 500", usage=usage
        ),
    )
    record = (await carol.client.get(f"{EXECUTIONS}/{failed['agentExecutionId']}")).json()
    assert record["status"] == "failed" and record["failedAt"] and record["agentOutput"] is None
    assert record["agentOutputSummary"] == "Failed: llm_call_failed: the provider said 500"
    tail = (await carol.client.get(f"{EXECUTIONS}/{failed['agentExecutionId']}/live-tail")).json()
    assert tail["totalVersions"] == 2
    assert tail["steps"][-1]["stepType"] == "system"
    assert tail["steps"][-1]["system"] == "llm_call_failed: the provider said 500"
    assert tail["latestMemoryState"]["state"]["usage"] == usage

    # The runtime recorded its own final system step: no second one.
    recorded = await running()
    await host_for(db, storage, carol, recorded, tmp_path).record(
        {"steps": [step("task", "t"), step("system", "timeout: 1 s")]}
    )
    await finish(
        db,
        recorded["agentExecutionId"],
        OWNER,
        AgentOutcome("failed", error_type="timeout", message="1 s"),
    )
    tail = (await carol.client.get(f"{EXECUTIONS}/{recorded['agentExecutionId']}/live-tail")).json()
    assert tail["totalVersions"] == 2 and tail["steps"][-1]["system"] == "timeout: 1 s"

    # Paused by request: the run's end is written onto the paused row.
    paused = await running()
    await carol.client.patch(
        f"{EXECUTIONS}/{paused['agentExecutionId']}", json={"status": "paused"}
    )
    await finish(db, paused["agentExecutionId"], OWNER, AgentOutcome("paused", usage=usage))
    record = (await carol.client.get(f"{EXECUTIONS}/{paused['agentExecutionId']}")).json()
    assert record["status"] == "paused" and record["usage"] == usage
    # A pause that came after the run completed: the completion wins.
    late_pause = await running()
    await carol.client.patch(
        f"{EXECUTIONS}/{late_pause['agentExecutionId']}", json={"status": "paused"}
    )
    await finish(
        db,
        late_pause["agentExecutionId"],
        OWNER,
        AgentOutcome("completed", output={"answer": "a"}, output_summary="a"),
    )
    assert (await carol.client.get(f"{EXECUTIONS}/{late_pause['agentExecutionId']}")).json()[
        "status"
    ] == "completed"

    # Cancelled by request: it stays cancelled, with the run's usage.
    cancelled = await running()
    await carol.client.post(f"{EXECUTIONS}/{cancelled['agentExecutionId']}/cancel")
    await finish(db, cancelled["agentExecutionId"], OWNER, AgentOutcome("cancelled", usage=usage))
    record = (await carol.client.get(f"{EXECUTIONS}/{cancelled['agentExecutionId']}")).json()
    assert record["status"] == "cancelled" and record["usage"] == usage
    assert record["agentOutputSummary"] == "Cancelled: cancelled by request"


async def test_worker_verdicts(
    carol: Account, db: Database, storage: Storage, tmp_path: Path
) -> None:
    """What the worker settles from outside the run: a budget (`stopped`), spent attempts
    (`gave_up`). Neither leaves the execution running."""
    _, version_id = await make_version(carol, "verdicts")
    over = await start(carol, version_id)
    await claim(db, over["agentExecutionId"])
    job = QueuedJob(
        job_id="job-under-test",
        kind="agent.execute",
        payload={"agentExecutionId": over["agentExecutionId"]},
        attempts=1,
        max_attempts=3,
    )
    message = "used more than its memory budget of 64.0 MiB (MODERATELY_JOB_MEMORY_BYTES)"
    await stopped(db, job, Stop("resource_limit", message))
    record = (await carol.client.get(f"{EXECUTIONS}/{over['agentExecutionId']}")).json()
    assert record["status"] == "failed"
    assert record["agentOutputSummary"] == f"Failed: resource_limit: {message}"
    tail = (await carol.client.get(f"{EXECUTIONS}/{over['agentExecutionId']}/live-tail")).json()
    assert tail["steps"] and tail["steps"][-1]["system"].endswith("(MODERATELY_JOB_MEMORY_BYTES)")
    # A stop on request changes nothing (the row says cancelled or paused already).
    requested = await start(carol, version_id)
    await claim(db, requested["agentExecutionId"])
    await carol.client.post(f"{EXECUTIONS}/{requested['agentExecutionId']}/cancel")
    await stopped(
        db,
        QueuedJob("j2", "agent.execute", {"agentExecutionId": requested["agentExecutionId"]}, 1, 3),
        Stop("requested", "stopped on request"),
    )
    assert (await carol.client.get(f"{EXECUTIONS}/{requested['agentExecutionId']}")).json()[
        "status"
    ] == "cancelled"
    for status in ("pending", "running"):
        lost = await start(carol, version_id)
        if status == "running":
            await claim(db, lost["agentExecutionId"])
        await gave_up(
            db,
            QueuedJob("j3", "agent.execute", {"agentExecutionId": lost["agentExecutionId"]}, 3, 3),
            "its process kept dying",
        )
        record = (await carol.client.get(f"{EXECUTIONS}/{lost['agentExecutionId']}")).json()
        assert record["status"] == "failed" and record["failedAt"], status
        assert record["agentOutputSummary"].startswith("Failed: worker_lost: ")
        assert "its process kept dying" in record["agentOutputSummary"]


# ---- a worker that died mid-run ----


async def test_running_execution_of_a_dead_worker_fails_worker_lost(tmp_path: Path) -> None:
    """The worker died mid-run and the job's attempts are spent: the next worker's recovery
    fails the execution with `worker_lost`; it is never left running."""
    first = create_app(Settings(data_dir=tmp_path, workers=0))
    async with first.router.lifespan_context(first):
        account = await _account(first)
        async with account.client:
            agent = await make_agent(account, "lost")
            created = await account.client.post(
                EXECUTIONS, json={"agent_id": agent["agentId"], "input_data": {}}
            )
            execution_id = created.json()["agentExecutionId"]
        async with first.state.database.session() as session:
            await session.execute(
                update(Job).values(
                    status="running", attempts=3, worker_id="dead-worker",
                    lease_expires_at=utcnow() - timedelta(seconds=5),
                )
            )  # fmt: skip
            await session.execute(
                update(AgentExecution)
                .where(AgentExecution.agent_execution_id == execution_id)
                .values(status="running", runner_id="dead", started_at=utcnow())
            )
    second = create_app(Settings(data_dir=tmp_path, workers=1))
    async with (
        second.router.lifespan_context(second),
        client_for(second, account.api_key) as client,
    ):
        finished = await wait_agent_terminal(client, execution_id)
        tail = (await client.get(f"{EXECUTIONS}/{execution_id}/live-tail")).json()
    assert finished["status"] == "failed" and finished["failedAt"]
    assert finished["agentOutputSummary"].startswith("Failed: worker_lost: ")
    assert tail["steps"][-1]["stepType"] == "system"
    assert tail["steps"][-1]["system"].startswith("worker_lost: ")


async def test_deleting_the_agent_removes_its_versions_and_executions(
    carol: Account, db: Database, storage: Storage, tmp_path: Path
) -> None:
    agent_id, version_id = await make_version(carol, "doomed")
    record = await start(carol, version_id)
    execution_id = record["agentExecutionId"]
    await claim(db, execution_id)
    await host_for(db, storage, carol, record, tmp_path).record({"steps": [step("task", "t")]})
    assert (await carol.client.delete(f"/agents/{agent_id}")).status_code == 200
    assert_error(await carol.client.get(f"{EXECUTIONS}/{execution_id}"), 404)
    assert_error(await carol.client.get(f"/agent-configuration-versions/{version_id}"), 404)
    listed = await carol.client.get("/agent-configuration-versions", params={"agentIds": agent_id})
    assert listed.json() == []
    async with db.session(write=False) as session:
        states = await session.scalar(
            select(func.count()).where(AgentExecutionMemoryState.agent_execution_id == execution_id)
        )
    assert states == 0
    # The run's job finds its execution gone: it writes nothing and stops.
    signals = RunSignals()
    await host_for(db, storage, carol, record, tmp_path, signals).record({"steps": []})
    assert signals.cancel
    await finish(db, execution_id, OWNER, AgentOutcome("completed", output={"answer": "x"}))
    assert_error(await carol.client.get(f"{EXECUTIONS}/{execution_id}"), 404)


async def test_a_null_agent_id_beside_the_0_2_7_spelling_is_absent(carol: Account) -> None:
    """`{"agent_id": <id>, "agentId": null}` runs the agent `agent_id` names."""
    agent = await make_agent(carol, "Null beside")
    response = await carol.client.post(
        EXECUTIONS, json={"agent_id": agent["agentId"], "agentId": None}
    )
    assert response.status_code == 201, response.text
    assert response.json()["agentId"] == agent["agentId"]
