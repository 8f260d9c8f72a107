"""Agent executions run by the server's workers (the agent.execute job with the real runtime)
against the loopback LLM provider: a run to its answer through the HTTP API (memory states, live
tail, thoughts, usage, a file the agent created, metrics), a cancel that lands while a model
call is in flight, and a pause/resume that continues from the recorded steps."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from agent_helpers import request_kind
from agents_helpers import version_body, wait_agent_terminal
from api_helpers import client_for
from fastapi import FastAPI
from llm_server import (
    LLMServer,
    Reply,
    llm_settings,
    shared_llm_server,
    slow_reply,
    text_reply,
    tool_reply,
)
from sqlalchemy import select

from moderately.app import create_app
from moderately.config import Settings
from moderately.db.models import Job
from moderately.services import operator

pytestmark = pytest.mark.anyio

EXECUTIONS = "/agent-executions"
HANG_GUARD = 60.0  # seconds: a model call held this long is one the run must abandon
OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
}


class Thoughts:
    """The loopback provider's answers: the scripted thought replies in order, plain text for
    the planning calls, and a date lookup once the thoughts run out."""

    def __init__(self, server: LLMServer, *thoughts: Reply) -> None:
        self.thoughts = deque(thoughts)
        self.seen: list[str] = []
        server.handler = self

    def __call__(self, protocol: str, body: dict[str, Any]) -> Reply:
        kind = request_kind(body)
        self.seen.append(kind)
        if kind == "thought":
            if self.thoughts:
                return self.thoughts.popleft()
            return tool_reply(("GetDateTool", {}), text="Checking the date.")
        return text_reply(f"{kind} text")


def final(answer: str, text: str = "Done.") -> Reply:
    """A final_answer call whose answer is the output object `{"answer": answer}`."""
    return tool_reply(("final_answer", {"answer": {"answer": answer}}), text=text)


@dataclass
class Server:
    app: FastAPI
    client: httpx.AsyncClient
    team_id: str


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """One server with one worker for the module; each test scripts the provider anew (the
    `llm_server` fixture resets it)."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("agent-runs"),
        workers=1,
        job_preload_ai=True,  # the default that the rest of the suite turns off (conftest.py)
        llm_retry_base_seconds=0.0,
        **llm_settings(shared_llm_server()),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with app.state.database.session() as session:
            issued = await operator.create_user_with_token(
                session, email="agent-runs@example.com", team_name="runs"
            )
        async with client_for(app, issued.api_key) as client:
            yield Server(app, client, issued.team_id)


async def agent_with(server: Server, name: str, tools: list[str], **config: Any) -> str:
    agent_id = (await make_agent_on(server, name))["agentId"]
    body = version_body(
        agent_id,
        2,
        isCurrent=True,
        inputSchema={"type": "object"},
        outputSchema=OUTPUT_SCHEMA,
        toolConfig=[{"type": tool} for tool in tools],
        executionConfig={"max_actions": 5, "planning_interval": 10, **config},
    )
    created = await server.client.post("/agent-configuration-versions", json=body)
    assert created.status_code == 201, created.text
    return agent_id


async def make_agent_on(server: Server, name: str) -> dict[str, Any]:
    response = await server.client.post("/agents", json={"name": name})
    assert response.status_code == 201, response.text
    agent: dict[str, Any] = response.json()
    return agent


async def wait_for_call(llm: LLMServer, kind: str) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while not any(request_kind(r.body) == kind for r in llm.requests):
        assert time.monotonic() < deadline, f"no {kind} call reached the provider"
        await asyncio.sleep(0.02)


async def job_done(app: FastAPI, execution_id: str) -> None:
    """Every job of the execution has left `running` (its process ended)."""
    deadline = time.monotonic() + HANG_GUARD
    while True:
        async with app.state.database.session(write=False) as session:
            rows = (await session.execute(select(Job.status, Job.payload))).all()
        mine = [r.status for r in rows if r.payload.get("agentExecutionId") == execution_id]
        if mine and "running" not in mine and "queued" not in mine:
            return
        assert time.monotonic() < deadline, mine
        await asyncio.sleep(0.05)


async def test_a_run_to_its_answer(server: Server, llm_server: LLMServer) -> None:
    agent_id = await agent_with(server, "writer", ["ResourceCreationTool", "GetDateTool"])
    Thoughts(
        llm_server,
        tool_reply(
            ("ResourceCreationTool", {"name": "notes.txt", "content": "the answer is 42"}),
            text="Write the notes down.",
        ),
        final("42", "The notes say 42."),
    )
    created = await server.client.post(
        EXECUTIONS, json={"agent_id": agent_id, "input_data": {"question": "what?"}}
    )
    assert created.status_code == 201, created.text
    execution_id = created.json()["agentExecutionId"]
    done = await wait_agent_terminal(server.client, execution_id, timeout=HANG_GUARD)

    assert done["status"] == "completed", done
    assert done["agentOutput"] == {"answer": "42"}
    assert done["agentOutputSummary"] and "42" in done["agentOutputSummary"]
    assert done["startedAt"] and done["completedAt"] and done["failedAt"] is None
    assert [t["text"] for t in done["thoughts"]] == ["Write the notes down.", "The notes say 42."]
    assert done["currentStep"] == 1
    usage = done["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    # Every step was saved as a memory-state version; the live tail shows the last one.
    tail = (await server.client.get(f"{EXECUTIONS}/{execution_id}/live-tail")).json()
    kinds = [s["stepType"] for s in tail["steps"]]
    assert kinds[:2] == ["system", "task"] and kinds[-1] == "final_answer"
    assert "code" in kinds and "observation" in kinds
    assert tail["totalVersions"] == len(tail["steps"])
    assert tail["execution"]["status"] == "completed"
    states = (
        await server.client.get(
            f"{EXECUTIONS}/{execution_id}/memory-states", params={"pageSize": 100}
        )
    ).json()
    assert [s["version"] for s in states["items"]] == list(range(1, len(tail["steps"]) + 1))
    assert states["items"][-1]["state"]["usage"]["input_tokens"] == usage["input_tokens"]
    # The file the agent wrote is a normal completed file of the team.
    files = (await server.client.get("/files", params={"nameLike": "notes"})).json()["items"]
    assert [(f["fileName"], f["uploadStatus"]) for f in files] == [("notes.txt", "completed")]
    final_step = tail["steps"][-1]["finalAnswer"]
    assert files[0]["fileId"] in final_step.get("resourceIds", [])
    agent = (await server.client.get(f"/agents/{agent_id}")).json()
    assert (agent["totalRuns"], agent["successfulRuns"], agent["successRate"]) == (1, 1, 100)
    assert agent["lastRunAt"] == done["startedAt"]


async def test_cancel_lands_during_a_model_call(server: Server, llm_server: LLMServer) -> None:
    agent_id = await agent_with(server, "slow", ["GetDateTool"])
    Thoughts(llm_server, slow_reply(HANG_GUARD * 2))
    created = await server.client.post(EXECUTIONS, json={"agent_id": agent_id})
    execution_id = created.json()["agentExecutionId"]
    await wait_for_call(llm_server, "thought")
    running = (await server.client.get(f"{EXECUTIONS}/{execution_id}")).json()
    assert running["status"] == "running"
    versions = (await server.client.get(f"{EXECUTIONS}/{execution_id}/live-tail")).json()
    cancelled = await server.client.post(f"{EXECUTIONS}/{execution_id}/cancel", json={})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    await job_done(server.app, execution_id)
    record = (await server.client.get(f"{EXECUTIONS}/{execution_id}")).json()
    assert record["status"] == "cancelled" and record["agentOutput"] is None
    assert record["completedAt"] is None and record["failedAt"] is None
    tail = (await server.client.get(f"{EXECUTIONS}/{execution_id}/live-tail")).json()
    assert tail["totalVersions"] == versions["totalVersions"]  # nothing written after it
    again = await server.client.post(f"{EXECUTIONS}/{execution_id}/cancel")
    assert again.status_code == 409


async def test_pause_and_resume_continue_the_steps(server: Server, llm_server: LLMServer) -> None:
    agent_id = await agent_with(server, "pausable", ["GetDateTool"])
    script = Thoughts(
        llm_server,
        tool_reply(("GetDateTool", {}), text="First, the date."),
        slow_reply(HANG_GUARD * 2),
    )
    created = await server.client.post(EXECUTIONS, json={"agent_id": agent_id})
    execution_id = created.json()["agentExecutionId"]
    path = f"{EXECUTIONS}/{execution_id}"
    # Pause while the second thought is in flight.
    deadline = time.monotonic() + HANG_GUARD
    while script.seen.count("thought") < 2:
        assert time.monotonic() < deadline, script.seen
        await asyncio.sleep(0.02)
    paused = await server.client.patch(path, json={"status": "paused"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    await job_done(server.app, execution_id)
    before = (await server.client.get(f"{path}/live-tail")).json()
    assert before["execution"]["status"] == "paused"
    assert [s["stepType"] for s in before["steps"]][-3:] == ["thought", "code", "observation"]
    script.thoughts.append(final("resumed"))
    resumed = await server.client.patch(path, json={"status": "running"})
    assert resumed.status_code == 200
    done = await wait_agent_terminal(server.client, execution_id, timeout=HANG_GUARD)
    assert done["status"] == "completed" and done["agentOutput"] == {"answer": "resumed"}
    assert done["startedAt"] == paused.json()["startedAt"] and done["pausedAt"]
    after = (await server.client.get(f"{path}/live-tail")).json()
    assert after["steps"][: len(before["steps"])] == before["steps"]  # kept as they were
    assert after["steps"][-1]["stepType"] == "final_answer"
    assert after["totalVersions"] > before["totalVersions"]
    assert done["thoughts"][0]["text"] == "First, the date."
