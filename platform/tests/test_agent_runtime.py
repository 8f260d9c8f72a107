"""The agent runtime (agents/runtime.py) against the real AI layer and the loopback provider:
the loop's steps and memory states, planning, answers valid and not, the action budget, time
limit, cancel and pause, provider failures, tool argument checks."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from typing import Any

import anyio
import pytest
from agent_helpers import (
    ANSWER_SCHEMA,
    MemoryAgentHost,
    request_kind,
    request_system,
    request_text,
    spec_for,
)
from ai_helpers import ai_for
from llm_server import (
    LLMServer,
    Reply,
    error_reply,
    garbage_reply,
    json_reply,
    slow_reply,
    text_reply,
    tool_reply,
)

from moderately.agents.host import AgentOutcome, AgentSpec
from moderately.agents.runtime import run_agent
from moderately.ai import AIServices, ai_services
from moderately.config import Settings

pytestmark = pytest.mark.anyio

HANG_GUARD = 60  # seconds: a run that takes longer is stuck

CONTRACT = "\n".join(
    [
        "EMPLOYMENT AGREEMENT",
        "1. DUTIES",
        "The employee shall perform the duties of an analyst.",
        "2. TERMINATION",
        "Either party may terminate this agreement with 30 days written notice.",
        "3. VACATION",
        "The employee is entitled to 20 days of paid vacation per year.",
    ]
)


class Script:
    """Replies by kind of call (fact, plan, thought, answer, critique, text); a kind with no
    reply left gets a plain text (fact, plan, text) or a GetDateTool call (thought)."""

    def __init__(self, server: LLMServer, **replies: list[Reply]) -> None:
        self.replies = {kind: deque(items) for kind, items in replies.items()}
        self.kinds: list[str] = []
        self.bodies: dict[str, list[dict[str, Any]]] = defaultdict(list)
        server.handler = self

    def __call__(self, protocol: str, body: dict[str, Any]) -> Reply:
        kind = request_kind(body)
        self.kinds.append(kind)
        self.bodies[kind].append(body)
        queue = self.replies.get(kind)
        if queue:
            return queue.popleft()
        if kind == "thought":
            return tool_reply(("GetDateTool", {}), text="Checking the date.")
        return text_reply(f"{kind} text")


async def run(spec: AgentSpec, host: MemoryAgentHost, ai: AIServices, **kw: Any) -> AgentOutcome:
    with anyio.fail_after(HANG_GUARD):
        return await run_agent(spec, host, ai, **kw)


def final(answer: Any, text: str = "I have the answer.") -> Reply:
    return tool_reply(("final_answer", {"answer": answer}), text=text)


def payloads(host: MemoryAgentHost, kind: str) -> list[Any]:
    key = {"fact": "facts", "final_answer": "finalAnswer"}.get(kind, kind)
    return [step[key] for step in host.steps if step["stepType"] == kind]


async def test_tool_use_ends_in_a_valid_answer(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    contract = host.add_file("contract.txt", CONTRACT)
    host.add_file("other.txt", "unrelated")
    spec = spec_for(
        host,
        "ResourceFindLinesTool",
        "TavilySearchTool",
        agent_input={"document": contract, "question": "What notice ends the agreement?"},
    )
    answer = {"answer": f"30 days written notice ({contract})", "line": 5}
    script = Script(
        llm_server,
        thought=[
            tool_reply(
                ("ResourceFindLinesTool", {"resource_id": contract, "text": "terminate"}),
                text="Find the termination clause.",
            ),
            final(answer, "Line 5 says it."),
        ],
    )
    outcome = await run(spec, host, ai_for(llm_server))

    assert outcome.status == "completed", outcome
    assert outcome.output == answer
    assert outcome.output_summary is not None and outcome.output_summary.startswith('{"answer"')
    assert host.step_types() == [
        *("system", "task", "fact", "plan"),
        *("thought", "code", "observation"),
        *("thought", "final_answer"),
    ]
    system, task = host.steps[0]["system"], host.steps[1]["task"]
    assert "ResourceFindLinesTool" in system and "Answer the question from the documents" in system
    assert "TavilySearchTool" in system.split("not available")[1]  # named as unavailable
    assert '"answer"' in system  # the output schema
    assert "Find the answer" in task and contract in task
    assert payloads(host, "code") == [
        f'ResourceFindLinesTool({{"resource_id": "{contract}", "text": "terminate"}})'
    ]
    assert payloads(host, "observation") == [
        "5: Either party may terminate this agreement with 30 days written notice."
    ]
    final_answer = payloads(host, "final_answer")[0]
    assert final_answer["type"] == "final_answer"
    assert final_answer["output"] == outcome.output_summary
    assert final_answer["resourceIds"] == [contract]  # cited in the answer
    for step in host.steps:
        assert step["startedAt"] <= step["endedAt"] and isinstance(step["summary"], str)

    # one memory-state version per step, each the previous one plus a step
    assert len(host.states) == len(host.steps)
    for number, state in enumerate(host.states, start=1):
        assert state["steps"] == host.steps[:number]
    assert host.thoughts == ["Find the termination clause.", "Line 5 says it."]
    assert host.states[-1]["action_count"] == 1 and host.current_steps[-1] == 1
    assert host.states[-1]["facts"] == "fact text" and host.states[-1]["plan"] == "plan text"

    # the model was offered the configured tool and final_answer, never the network tool,
    # and saw the observation in its next call
    assert script.kinds == ["fact", "plan", "thought", "thought"]
    offered = [tool["function"]["name"] for tool in script.bodies["thought"][0]["tools"]]
    assert offered == ["ResourceFindLinesTool", "final_answer"]
    assert "30 days written notice" in request_text(script.bodies["thought"][1])
    assert outcome.usage["llm_calls"] == 4
    assert outcome.usage["input_tokens"] == 4 * 11 and outcome.usage["output_tokens"] == 4 * 7


async def test_planning_every_interval_with_its_own_roles(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    spec = spec_for(
        host,
        "GetDateTool",
        planning_interval=2,
        llm_config={
            "thought_llm": {"provider": "openai", "model_tier": "large"},
            "fact_extraction_llm": {
                "provider": "openai",
                "model_tier": "small",
                "model": "f-1",
            },
            "planner_llm": {
                "provider": "openai",
                "model_tier": "medium",
                "model_config": {"temperature": 0.1},
            },
        },
    )
    thoughts = [tool_reply(("GetDateTool", {}), text=f"step {n}") for n in range(4)]
    script = Script(llm_server, thought=[*thoughts, final({"answer": "done", "line": 1})])
    outcome = await run(spec, host, ai_for(llm_server))

    assert outcome.status == "completed", outcome
    action = ["thought", "code", "observation"]
    assert host.step_types() == [
        *("system", "task", "fact", "plan"),
        *action,
        *action,
        *("fact", "plan"),
        *action,
        *action,
        *("fact", "plan"),
        *("thought", "final_answer"),
    ]
    assert [
        state["action_count"] for state in host.states if state["steps"][-1]["stepType"] == "plan"
    ] == [0, 2, 4]
    models = {kind: {body["model"] for body in bodies} for kind, bodies in script.bodies.items()}
    assert models["fact"] == {"f-1"}
    assert len(models["thought"]) == 1 and models["plan"] != models["thought"]
    assert {body.get("temperature") for body in script.bodies["plan"]} == {0.1}
    # a later plan knows the observations so far
    assert "step 1" not in request_text(script.bodies["plan"][1])  # thoughts are left out
    assert "GetDateTool" in request_text(script.bodies["plan"][1])


async def test_invalid_final_answer_is_an_observation_then_valid(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    spec = spec_for(host, "GetDateTool")
    Script(
        llm_server,
        thought=[final({"answer": "x", "line": "five"}), final({"answer": "x", "line": 5})],
    )
    outcome = await run(spec, host, ai_for(llm_server))

    assert outcome.status == "completed" and outcome.output == {"answer": "x", "line": 5}
    assert host.step_types()[4:] == ["thought", "observation", "thought", "final_answer"]
    observation = payloads(host, "observation")[0]
    assert "output schema" in observation and "/line" in observation
    assert host.states[-1]["action_count"] == 1


async def test_a_json_text_answer_and_a_non_object_schema(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    spec = spec_for(host, output_schema={"type": "array", "items": {"type": "integer"}})
    Script(llm_server, thought=[final("[1, 2, 3]")])
    outcome = await run(spec, host, ai_for(llm_server))

    assert outcome.status == "completed"
    assert outcome.output == {"output": [1, 2, 3]}
    assert payloads(host, "final_answer")[0]["output"] == "[1, 2, 3]"


@pytest.mark.parametrize("valid", [True, False])
async def test_spent_budget_gets_one_last_answer(llm_server: LLMServer, valid: bool) -> None:
    host = MemoryAgentHost()
    spec = spec_for(host, "GetDateTool", max_actions=2)
    last = {"answer": "best guess", "line": 2}
    answers = [json_reply(last)] if valid else [json_reply({"answer": 1}), json_reply({})]
    script = Script(llm_server, answer=answers)
    outcome = await run(spec, host, ai_for(llm_server))

    assert script.kinds.count("thought") == 2
    assert host.states[-1]["action_count"] == 2
    if valid:
        assert outcome.status == "completed" and outcome.output == last
        assert host.step_types()[-2:] == ["thought", "final_answer"]
        assert "last answer" not in script.bodies["answer"][0].get("tools", "")
        assert "No actions are left" in request_text(script.bodies["answer"][0])
    else:
        assert outcome.status == "failed" and outcome.error_type == "max_actions_exceeded"
        assert host.step_types()[-1] == "system"
        assert "max_actions_exceeded" in payloads(host, "system")[-1]
        assert outcome.output_summary is not None
        assert outcome.output_summary.startswith("Failed: all 2 actions were used")


async def test_time_limit_fails_the_run(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    spec = spec_for(host, "GetDateTool", timeout_seconds=1.0)
    Script(llm_server, thought=[slow_reply(HANG_GUARD * 2)])
    outcome = await run(spec, host, ai_for(llm_server))

    assert outcome.status == "failed" and outcome.error_type == "timeout"
    assert host.step_types()[-1] == "system"
    assert "timeout" in payloads(host, "system")[-1]
    assert outcome.output_summary == f"Failed: {outcome.message}"


async def test_cancel_interrupts_a_call_in_flight(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    spec = spec_for(host, "GetDateTool")
    Script(llm_server, thought=[slow_reply(HANG_GUARD * 2)])
    task = asyncio.create_task(run(spec, host, ai_for(llm_server)))
    with anyio.fail_after(HANG_GUARD):
        while not any(request_kind(r.body) == "thought" for r in llm_server.requests):
            await asyncio.sleep(0.01)
    recorded = len(host.states)
    host.cancel()
    outcome = await task

    assert outcome.status == "cancelled"
    assert len(host.states) == recorded  # nothing written after the cancel
    assert llm_server.in_flight == 1  # the call was abandoned, not waited for


async def test_pause_then_resume_continues_from_the_steps(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    spec = spec_for(host, "GetDateTool", max_actions=4, planning_interval=10)

    async def pause_after_two_actions(host: MemoryAgentHost) -> None:
        if host.states[-1]["action_count"] == 2:
            host.pause()

    host.on_record = pause_after_two_actions
    Script(llm_server)  # GetDateTool calls all along
    paused = await run(spec, host, ai_for(llm_server))
    assert paused.status == "paused"
    state = host.states[-1]
    assert state["action_count"] == 2 and state["steps"][-1]["stepType"] == "observation"

    host.clear_pause()
    host.on_record = None
    script = Script(llm_server, thought=[final({"answer": "resumed", "line": 3})])
    outcome = await run(spec, host, ai_for(llm_server), resume_state=state)

    assert outcome.status == "completed" and outcome.output == {"answer": "resumed", "line": 3}
    steps = host.steps
    assert steps[: len(state["steps"])] == state["steps"]  # kept as they were
    assert [s["stepType"] for s in steps[len(state["steps"]) :]] == [
        *("fact", "plan", "thought", "final_answer")
    ]
    assert host.states[-1]["action_count"] == 2
    assert outcome.usage["llm_calls"] == state["usage"]["llm_calls"] + 3
    # the resumed model saw what the first stretch did
    assert request_text(script.bodies["thought"][0]).count("GetDateTool") >= 2


async def test_provider_429_is_retried(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    spec = spec_for(host)
    Script(
        llm_server,
        thought=[error_reply(429, retry_after=0), final({"answer": "ok", "line": 1})],
    )
    outcome = await run(spec, host, ai_for(llm_server))

    assert outcome.status == "completed" and outcome.output == {"answer": "ok", "line": 1}
    assert host.step_types()[4:] == ["thought", "final_answer"]


async def test_tool_arguments_are_checked_against_the_schema(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    contract = host.add_file("contract.txt", CONTRACT)
    spec = spec_for(host, "ResourceReadLinesTool", "RegexSearchTool", max_actions=6)
    Script(
        llm_server,
        thought=[
            tool_reply(("ResourceReadLinesTool", {"resource_id": contract, "start": "one"})),
            tool_reply(("ResourceReadLinesTool", {"resource_id": "nope", "start": 1, "end": 2})),
            tool_reply(("RegexSearchTool", {"resource_id": contract, "pattern": r"(\w)\1"})),
            tool_reply(("NoSuchTool", {})),
            tool_reply(("RegexSearchTool", {"resource_id": contract, "pattern": r"\d+ days"})),
            final({"answer": "x", "line": 5}),
        ],
    )
    outcome = await run(spec, host, ai_for(llm_server))

    assert outcome.status == "completed"
    bad_type, unknown_id, backreference, no_tool, matches = payloads(host, "observation")
    assert "invalid arguments for ResourceReadLinesTool" in bad_type
    assert (
        "'one' is not of type 'integer'" in bad_type and "'end' is a required property" in bad_type
    )
    assert "not one of this run's resources" in unknown_id
    assert "RE2" in backreference
    assert "NoSuchTool" in no_tool
    assert matches.splitlines() == [
        "5: '30 days' in: Either party may terminate this agreement with 30 days written notice.",
        "7: '20 days' in: The employee is entitled to 20 days of paid vacation per year.",
    ]
    assert host.states[-1]["action_count"] == 5


@pytest.mark.parametrize(
    "failure", [[garbage_reply()], [error_reply(500), error_reply(500), error_reply(500)]]
)
async def test_provider_failure_ends_with_a_system_step(
    llm_server: LLMServer, failure: list[Reply]
) -> None:
    host = MemoryAgentHost()
    spec = spec_for(host, "GetDateTool")
    Script(llm_server, thought=failure)
    outcome = await run(spec, host, ai_for(llm_server, llm_max_attempts=len(failure)))

    assert outcome.status == "failed" and outcome.error_type == "llm_call_failed"
    assert host.step_types() == ["system", "task", "fact", "plan", "system"]
    assert payloads(host, "system")[-1].startswith("Failed (llm_call_failed): ")
    assert outcome.output_summary == f"Failed: {outcome.message}"


async def test_no_provider_configured(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    outcome = await run(spec_for(host), host, ai_services(Settings()))

    assert outcome.status == "failed" and outcome.error_type == "provider_not_configured"
    assert host.step_types() == ["system"]
    assert "provider_not_configured" in payloads(host, "system")[0]


async def test_feedback_round_revises_the_answer(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    spec = spec_for(host, feedback_rounds=2)
    Script(
        llm_server,
        thought=[final({"answer": "draft", "line": 1})],
        critique=[
            json_reply({"improve": True, "critique": "Cite the right line."}),
            json_reply({"improve": False, "critique": "Good now."}),
        ],
        answer=[json_reply({"answer": "revised", "line": 2})],
    )
    outcome = await run(spec, host, ai_for(llm_server))

    assert outcome.status == "completed" and outcome.output == {"answer": "revised", "line": 2}
    assert host.step_types()[4:] == [
        *("thought", "final_answer", "thought", "final_answer", "thought")
    ]
    assert payloads(host, "thought")[1:] == ["Cite the right line.", "Good now."]


def test_answer_schema_is_what_the_tests_assume() -> None:
    assert ANSWER_SCHEMA["required"] == ["answer", "line"]
    assert request_system({"messages": [{"role": "system", "content": "x"}]}) == "x"


async def test_replies_without_a_tool_call(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    spec = spec_for(host, "GetDateTool")
    Script(
        llm_server,
        thought=[
            text_reply("I think the answer is on line 5."),
            text_reply('{"thought": "Done.", "final_answer": {"answer": "from text", "line": 5}}'),
        ],
    )
    outcome = await run(spec, host, ai_for(llm_server))

    assert outcome.status == "completed" and outcome.output == {"answer": "from text", "line": 5}
    assert host.step_types()[4:] == ["thought", "observation", "thought", "final_answer"]
    assert payloads(host, "thought")[0] == "I think the answer is on line 5."
    assert "the reply called no tool" in payloads(host, "observation")[0]
