"""Agents against the real server on both configurations: configuration versions, executions
(0.2.7 and spec call styles), waiting for success, failure and cancellation, the live tail and
memory states. Agents think through the loopback LLM providers of platform/tests/llm_server.py
(its default replies are valid against whatever schema the runtime asks for)."""

import builtins
import json
import time
import uuid
from typing import Any, Callable, List, Tuple

import pytest

from moderatelyai_sdk import (
    AgentConfigurationVersion,
    AgentExecution,
    AgentExecutionCancelledError,
    AgentExecutionError,
    AgentExecutionFailedError,
    AgentMemoryState,
    AgentStep,
    AsyncModeratelyAI,
    AsyncPage,
    ConflictError,
    NotFoundError,
    TimeoutError,
    ValidationError,
    _io_async,
)

pytestmark = pytest.mark.anyio

FAST = {"poll_interval": 0.2, "timeout": 120.0}
QUESTION = {"question": "Which clauses renew automatically?"}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
}


def connect(credentials: Any) -> AsyncModeratelyAI:
    return AsyncModeratelyAI(
        api_key=credentials.api_key, team_id=credentials.team_id, base_url=credentials.base_url
    )


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


async def new_agent(client: AsyncModeratelyAI) -> Tuple[str, AgentConfigurationVersion]:
    """An agent with a current version of its own: a small action budget, an answer schema."""
    agent = await client.agents.create(name=unique("agent"), description="answers questions")
    version = await client.agent_configuration_versions.create(
        agent_id=agent.agent_id,
        instructions="Answer the question in one sentence.",
        output_schema=ANSWER_SCHEMA,
        execution_config={"max_actions": 2, "planning_interval": 1},
    )
    return agent.agent_id, version


async def wait_running(client: AsyncModeratelyAI, execution_id: str) -> None:
    """Until a worker process has picked the execution up."""
    deadline = time.monotonic() + 60
    while (await client.agent_executions.retrieve(execution_id)).status != "running":
        assert time.monotonic() < deadline
        await _io_async.sleep(0.05)


def hold_every_call(llm: Any) -> None:
    """Every LLM call hangs (until the test's LLM server is reset), so runs stay running."""
    from llm_server import slow_reply

    llm.handler = lambda protocol, request: slow_reply(600.0)


def fail_every_call(llm: Any) -> None:
    """Every LLM call is refused (a 400 is not retried), so runs fail."""
    from llm_server import error_reply

    llm.handler = lambda protocol, request: error_reply(400, "scripted refusal")


# --- configuration versions -------------------------------------------------------------------


async def test_configuration_versions(admin: Any) -> None:
    async with connect(admin) as client:
        agent = await client.agents.create(name=unique("versions"))
        # Every agent starts with a current version 1 (what 0.2.7's agent_id executions run).
        (first,) = await client.agent_configuration_versions.list(agent_ids=[agent.agent_id])
        assert isinstance(first, AgentConfigurationVersion)
        assert (first.version_number, first.is_current) == (1, True)

        second = await client.agent_configuration_versions.create(
            agent_id=agent.agent_id,
            instructions="Summarise the input.",
            system_prompt="Be brief.",
            tool_config=[{"type": "GetDateTool"}],
            execution_config={"max_actions": 3},
        )
        assert (second.version_number, second.is_current) == (2, True)
        assert second["agentConfigurationVersionId"] == second.agent_configuration_version_id
        assert [tool["type"] for tool in second.tool_config] == ["GetDateTool"]
        assert second.execution_config["max_actions"] == 3
        assert second.execution_config["planning_interval"] == 4  # the server's default

        current = await client.agent_configuration_versions.list(
            agent_ids=[agent.agent_id], is_current=True
        )
        assert [v.agent_configuration_version_id for v in current] == [
            second.agent_configuration_version_id
        ]
        retrieved = await client.agent_configuration_versions.retrieve(
            first.agent_configuration_version_id
        )
        assert retrieved.is_current is False  # demoted by the new current version

        updated = await client.agent_configuration_versions.update(
            first.agent_configuration_version_id, instructions="Changed.", is_current=True
        )
        assert (updated.instructions, updated.is_current, updated.version_number) == (
            "Changed.",
            True,
            1,
        )
        by_number = await client.agent_configuration_versions.list(
            agent_ids=[agent.agent_id], version_numbers=[2]
        )
        assert [v.is_current for v in by_number] == [False]

        with pytest.raises(ConflictError):
            await client.agent_configuration_versions.create(
                agent_id=agent.agent_id, instructions="Again.", version_number=2
            )
        with pytest.raises(ValidationError):
            await client.agent_configuration_versions.create(
                agent_id=agent.agent_id, instructions="", version_number=9
            )
        with pytest.raises(NotFoundError):
            await client.agent_configuration_versions.retrieve("acv_missing_0000000000")


# --- creating executions ----------------------------------------------------------------------


async def test_create_in_the_0_2_7_style_runs_the_current_version(admin: Any, llm: Any) -> None:
    async with connect(admin) as client:
        agent_id, version = await new_agent(client)
        execution = await client.agent_executions.create(agent_id=agent_id, input_data=QUESTION)
        assert isinstance(execution, AgentExecution)
        assert execution.status in ("pending", "running")
        assert execution.agent_configuration_version_id == version.agent_configuration_version_id
        assert (execution.agent_id, execution.agent_input) == (agent_id, QUESTION)
        # The summary the SDK makes: the input as compact JSON.
        assert execution.agent_input_summary == json.dumps(QUESTION, separators=(",", ":"))
        assert execution.agent_output_schema == ANSWER_SCHEMA  # the version's, snapshotted
        assert execution["agentExecutionId"] == execution.execution_id

        # 0.2.7 itself sends {agent_id, input_data}: the server accepts that body as it is.
        raw = await client._request(
            "POST", "/agent-executions", body={"agent_id": agent_id, "input_data": QUESTION}
        )
        assert raw["agentConfigurationVersionId"] == version.agent_configuration_version_id
        assert raw["agentInput"] == QUESTION

        empty = await client.agent_executions.create(agent_id=agent_id)
        assert (empty.agent_input, empty.agent_input_summary) == ({}, "Agent execution")
        long = await client.agent_executions.create(agent_id=agent_id, agent_input={"t": "x" * 900})
        assert long.agent_input == {"t": "x" * 900}  # the wire's name works as a keyword too
        assert long.agent_input_summary == '{"t":"' + "x" * 494  # cut to the wire's 500
        runs = (
            execution.execution_id,
            raw["agentExecutionId"],
            empty.execution_id,
            long.execution_id,
        )
        for execution_id in runs:
            await client.agent_executions.wait_for_completion(execution_id, **FAST)


async def test_create_in_the_spec_style(admin: Any, llm: Any) -> None:
    async with connect(admin) as client:
        agent_id, version = await new_agent(client)
        older = await client.agent_configuration_versions.list(
            agent_ids=[agent_id], version_numbers=[1]
        )
        execution = await client.agent_executions.create(
            agent_id=agent_id,
            input_data=QUESTION,
            agent_configuration_version_id=older[0].agent_configuration_version_id,
            agent_input_summary="renewal question",
            max_actions=1,
            planning_interval=1,
        )
        assert execution.agent_configuration_version_id == older[0].agent_configuration_version_id
        assert execution.agent_input_summary == "renewal question"
        assert (execution.max_actions, execution.planning_interval) == (1, 1)
        assert execution.agent_output_schema == {"type": "object"}  # version 1's
        assert version.is_current  # the explicit version ran, not the current one
        await client.agent_executions.wait_for_completion(execution.execution_id, **FAST)


async def test_create_refuses_bad_input(admin: Any) -> None:
    async with connect(admin) as client:
        agent = await client.agents.create(name=unique("strict"))
        await client.agent_configuration_versions.create(
            agent_id=agent.agent_id,
            instructions="Needs a question.",
            input_schema={
                "type": "object",
                "properties": {"question": {"type": "string"}},
                "required": ["question"],
            },
        )
        with pytest.raises(ValidationError) as refused:
            await client.agent_executions.create(agent_id=agent.agent_id, input_data={"q": 1})
        assert "question" in str(refused.value)
        with pytest.raises(NotFoundError):
            await client.agent_executions.create(agent_id="agt_missing_00000000000")
        with pytest.raises(ValueError):
            await client.agent_executions.retrieve("")
        with pytest.raises(ValueError):
            await client.agent_executions.create(
                agent_id=agent.agent_id, input_data={"question": "a"}, agent_input={"x": 1}
            )


# --- waiting ----------------------------------------------------------------------------------


async def test_wait_for_completion_returns_the_completed_execution(admin: Any, llm: Any) -> None:
    async with connect(admin) as client:
        agent_id, _ = await new_agent(client)
        started = await client.agent_executions.create(agent_id=agent_id, input_data=QUESTION)
        done = await client.agent_executions.wait_for_completion(started.execution_id, **FAST)
        assert isinstance(done, AgentExecution)
        assert (done.status, done.is_terminal) == ("completed", True)
        assert isinstance(done.agent_output, dict) and isinstance(done.agent_output["answer"], str)
        assert done.agent_output_summary and done.completed_at and done.started_at
        assert done.thoughts and all(thought.text for thought in done.thoughts)
        assert llm.requests, "the agent thought through the loopback providers"

        page = await client.agent_executions.list(agent_id=agent_id, status="completed")
        assert isinstance(page, AsyncPage)
        assert [e.execution_id for e in page.data] == [started.execution_id]
        assert (await client.agent_executions.list(agent_id=agent_id, status="failed")).data == []


async def test_wait_returns_a_failed_run_or_raises_on_request(admin: Any, llm: Any) -> None:
    fail_every_call(llm)
    async with connect(admin) as client:
        agent_id, _ = await new_agent(client)
        started = await client.agent_executions.create(agent_id=agent_id, input_data=QUESTION)
        # As the seed and 0.2.7: the finished execution comes back, whatever its status.
        finished = await client.agent_executions.wait_for_completion(started.execution_id, **FAST)
        assert (finished.status, finished.is_terminal) == ("failed", True)
        assert finished.agent_output_summary.startswith("Failed")
        with pytest.raises(AgentExecutionFailedError) as failed:
            await client.agent_executions.wait_for_success(started.execution_id, **FAST)
        error = failed.value
        assert isinstance(error, AgentExecutionError)
        assert (error.status, error.execution_id) == ("failed", started.execution_id)
        assert error.execution.status == "failed" and error.execution.failed_at
        assert error.reason and error.reason in str(error)
        assert error.execution.agent_output_summary.startswith("Failed")


async def test_cancel_stops_the_run_and_a_finished_one_conflicts(admin: Any, llm: Any) -> None:
    hold_every_call(llm)
    async with connect(admin) as client:
        agent_id, _ = await new_agent(client)
        started = await client.agent_executions.create(agent_id=agent_id, input_data=QUESTION)
        await wait_running(client, started.execution_id)
        with pytest.raises(TimeoutError) as timed_out:
            await client.agent_executions.wait_for_completion(
                started.execution_id, timeout=0.3, poll_interval=0.1
            )
        assert isinstance(timed_out.value, builtins.TimeoutError)
        assert "running" in str(timed_out.value)

        cancelled = await client.agent_executions.cancel(started.execution_id)
        assert (cancelled.status, bool(cancelled.cancelled_at)) == ("cancelled", True)
        finished = await client.agent_executions.wait_for_completion(started.execution_id, **FAST)
        assert finished.status == "cancelled"
        with pytest.raises(AgentExecutionCancelledError) as raised:
            await client.agent_executions.wait_for_success(started.execution_id, **FAST)
        assert raised.value.execution.status == "cancelled"
        with pytest.raises(ConflictError):
            await client.agent_executions.cancel(started.execution_id)

    llm.reset()  # completed runs conflict too
    async with connect(admin) as client:
        done = await client.agent_executions.create(agent_id=agent_id, input_data=QUESTION)
        await client.agent_executions.wait_for_completion(done.execution_id, **FAST)
        with pytest.raises(ConflictError):
            await client.agent_executions.cancel(done.execution_id)


# --- live tail and memory states --------------------------------------------------------------


async def test_tail_yields_every_step_once_in_order(admin: Any, llm: Any) -> None:
    async with connect(admin) as client:
        agent_id, _ = await new_agent(client)
        started = await client.agent_executions.create(agent_id=agent_id, input_data=QUESTION)
        steps: List[AgentStep] = []
        async for step in client.agent_executions.tail(started.execution_id, poll_interval=0.2):
            assert isinstance(step, AgentStep)
            steps.append(step)

        # The tail ends once the run has finished: every step of its final memory, in order.
        finished = await client.agent_executions.retrieve(started.execution_id)
        assert finished.status == "completed"
        snapshot = await client.agent_executions.live_tail(started.execution_id)
        assert snapshot.execution.status == "completed"
        assert [s.to_dict() for s in steps] == [s.to_dict() for s in snapshot.steps]
        kinds = [step.step_type for step in steps]
        assert kinds[:2] == ["system", "task"] and kinds[-1] == "final_answer"
        final = steps[-1].final_answer
        assert final is not None and json.loads(final.output) == finished.agent_output
        assert steps[1].content and steps[-1].content is final

        # Tailing a finished run gives the same steps at once.
        again = [
            step.to_dict() async for step in client.agent_executions.tail(started.execution_id)
        ]
        assert again == [s.to_dict() for s in steps]


async def test_tail_follows_a_run_until_it_is_cancelled(admin: Any, llm: Any) -> None:
    hold_every_call(llm)
    async with connect(admin) as client:
        agent_id, _ = await new_agent(client)
        started = await client.agent_executions.create(agent_id=agent_id, input_data=QUESTION)
        await wait_running(client, started.execution_id)
        early: List[str] = []
        with pytest.raises(TimeoutError):  # the run is stuck on its first LLM call
            async for step in client.agent_executions.tail(started.execution_id, timeout=0.5):
                early.append(step.step_type or "")
        seen: List[str] = []
        async for step in client.agent_executions.tail(started.execution_id, poll_interval=0.1):
            seen.append(step.step_type or "")
            if len(seen) == 1:  # cancelled while tailing: the tail ends instead of waiting on
                await client.agent_executions.cancel(started.execution_id)
        assert seen[: len(early)] == early and seen[0] == "system"
        assert (await client.agent_executions.retrieve(started.execution_id)).is_terminal
        with pytest.raises(NotFoundError):
            async for _ in client.agent_executions.tail("agx_missing_000000000"):
                pass


async def test_memory_states(admin: Any, llm: Any) -> None:
    async with connect(admin) as client:
        agent_id, _ = await new_agent(client)
        started = await client.agent_executions.create(agent_id=agent_id, input_data=QUESTION)
        await client.agent_executions.wait_for_completion(started.execution_id, **FAST)
        execution_id = started.execution_id
        snapshot = await client.agent_executions.live_tail(execution_id)
        total = snapshot.total_versions
        assert total >= 2 and snapshot.latest_memory_state is not None

        page = await client.agent_executions.list_memory_states(execution_id, page_size=1000)
        states = page.data
        assert [s.version for s in states] == list(range(1, total + 1))
        assert all(isinstance(s, AgentMemoryState) for s in states)
        assert all(s.agent_execution_id == execution_id for s in states)
        # Each version adds steps to the one before.
        counts = [len(s.state.get("steps", [])) for s in states]
        assert counts == sorted(counts) and counts[-1] == len(snapshot.steps)

        walked = [
            s.version
            async for s in (
                await client.agent_executions.list_memory_states(execution_id, page_size=2)
            ).auto_paging_iter()
        ]
        assert walked == list(range(1, total + 1))
        newest = await client.agent_executions.list_memory_states(
            execution_id, order_direction="desc", page_size=1
        )
        assert [s.version for s in newest.data] == [total]
        latest = await client.agent_executions.list_memory_states(execution_id, latest=True)
        assert [s.version for s in latest.data] == [total]
        assert latest.data[0].state == snapshot.latest_memory_state.state

        first = await client.agent_executions.retrieve_memory_state(execution_id, 1)
        assert first.to_dict() == states[0].to_dict()
        with pytest.raises(NotFoundError):
            await client.agent_executions.retrieve_memory_state(execution_id, total + 1)
        with pytest.raises(ValueError):
            await client.agent_executions.retrieve_memory_state(execution_id, 0)


# --- delete and isolation ---------------------------------------------------------------------


async def test_delete_and_other_teams(admin: Any, outsider: Any, llm: Any) -> None:
    async with connect(admin) as client, connect(outsider) as other:
        agent_id, version = await new_agent(client)
        started = await client.agent_executions.create(agent_id=agent_id, input_data=QUESTION)
        execution_id = started.execution_id
        calls: List[Callable[[], Any]] = [
            lambda: other.agent_executions.retrieve(execution_id),
            lambda: other.agent_executions.cancel(execution_id),
            lambda: other.agent_executions.live_tail(execution_id),
            lambda: other.agent_executions.list_memory_states(execution_id),
            lambda: other.agent_configuration_versions.retrieve(
                version.agent_configuration_version_id
            ),
        ]
        for call in calls:
            with pytest.raises(NotFoundError):
                await call()
        assert (await other.agent_executions.list(agent_id=agent_id)).data == []

        await client.agent_executions.delete(execution_id)
        with pytest.raises(NotFoundError):
            await client.agent_executions.retrieve(execution_id)
        with pytest.raises(NotFoundError):
            await client.agent_executions.delete(execution_id)
