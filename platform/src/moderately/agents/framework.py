"""The agent loop on smolagents' `ToolCallingAgent`, adapted to our models, tools and memory.

smolagents runs the loop (task step, a planning step every `planning_interval` actions, action
steps of model call + tool calls + observation, `max_steps`, final-answer checks, a last answer
when the budget is spent); this module plugs in:

* `BridgedModel`: every model call goes to our `ChatModels` (providers, retries, timeouts,
  outbound rules and usage are ours) through the bridge to the event loop;
* `BridgedTool`: our `AgentTool`s (argument schema check, timeout, errors as observations);
* `AgentLoop`: planning asks two roles (fact extraction, then the planner), the last answer
  is a structured call validated against the output schema, and every step is written to the
  memory as it happens (thought at the model's reply, code + observation at the step's end).

The loop runs in its own thread (smolagents is synchronous); nothing here runs model-written
code: `ToolCallingAgent` only calls the tools listed.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from smolagents import ToolCallingAgent
from smolagents.agents import PromptTemplates
from smolagents.memory import ActionStep, PlanningStep, TaskStep
from smolagents.models import (
    ChatMessage,
    ChatMessageToolCall,
    ChatMessageToolCallFunction,
    MessageRole,
    Model,
)
from smolagents.monitoring import LogLevel, Timing, TokenUsage
from smolagents.tools import Tool
from smolagents.utils import AgentMaxStepsError

from ..ai.types import AIError, Message, ToolSpec
from . import prompts
from .bridge import Bridge
from .errors import RunFailure, ToolError
from .llm import AgentLLM
from .memory import Memory, make_step, step_payload, step_type
from .output import OutputRules
from .tools import AgentTool, ToolKit, call_tool, truncate

FINAL_ANSWER = "final_answer"
_EMPTY_TEMPLATES: PromptTemplates = {
    "system_prompt": "",
    "planning": {
        "initial_plan": "",
        "update_plan_pre_messages": "",
        "update_plan_post_messages": "",
    },
    "managed_agent": {"task": "", "report": ""},
    "final_answer": {"pre_messages": "", "post_messages": ""},
}


def _moment(epoch: float | None = None) -> datetime:
    return datetime.fromtimestamp(epoch if epoch is not None else time.time(), UTC)


@dataclass
class Session:
    """What the loop's thread shares with the run: everything it touches goes through
    `bridge` to the event loop."""

    bridge: Bridge
    memory: Memory
    llm: AgentLLM
    kit: ToolKit
    tools: list[AgentTool]
    tool_timeout: float
    system_text: str
    output: OutputRules
    answer: Any = None
    answered: bool = False
    offered_answer: Any = None  # the last final_answer call's answer, before the checks
    last_reply_at: datetime = field(default_factory=_moment)

    def record(self, step: dict[str, Any], *, count_action: bool = False) -> None:
        self.bridge.call(functools.partial(self.memory.add, step, count_action=count_action))

    def final_step(self, answer: Any, started: datetime) -> dict[str, Any]:
        """Take the validated `answer` as the run's answer; its `final_answer` step."""
        self.answer, self.answered = answer, True
        payload = self.output.final_answer(
            answer, self.kit.created_files, self.kit.resources.team_ids
        )
        return make_step("final_answer", payload, started=started)

    def accept(self, answer: Any, started: datetime) -> None:
        """Record the validated answer as the final step (from the loop's thread)."""
        self.record(self.final_step(answer, started))


# -- messages and tool calls -------------------------------------------------------------------


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return str(content)


def to_chat(messages: Sequence[Any]) -> tuple[str | None, list[Message]]:
    """smolagents messages as (system text, alternating user/assistant messages): tool calls
    become assistant text, tool responses user text (our adapters speak plain text turns)."""
    system: list[str] = []
    turns: list[Message] = []
    for message in messages:
        role = message.role if isinstance(message, ChatMessage) else message.get("role")
        content = message.content if isinstance(message, ChatMessage) else message.get("content")
        text = _content_text(content).strip()
        if not text:
            continue
        role = str(getattr(role, "value", role))
        if role == "system" and not turns:
            system.append(text)
            continue
        kind: Literal["user", "assistant"] = (
            "assistant" if role in ("assistant", "tool-call") else "user"
        )
        if turns and turns[-1].role == kind:
            turns[-1] = Message(kind, turns[-1].content + "\n\n" + text)
        else:
            turns.append(Message(kind, text))
    if not turns or turns[0].role != "user":
        turns.insert(0, Message("user", "Begin."))
    return ("\n\n".join(system) or None), turns


def render_call(name: str, arguments: Any) -> str:
    """`ResourceSearchTool({"query": "..."})`: a tool call as the `code` step shows it."""
    return f"{name}({json.dumps(arguments, ensure_ascii=False, default=str)})"


def _tool_call(call_id: str, name: str, arguments: Any) -> ChatMessageToolCall:
    return ChatMessageToolCall(
        id=call_id,
        type="function",
        function=ChatMessageToolCallFunction(name=name, arguments=arguments),
    )


class BridgedModel(Model):
    """A smolagents `Model` whose every call is `AgentLLM.chat` with the thought role."""

    def __init__(self, session: Session) -> None:
        super().__init__(model_id=session.llm.roles["thought"].choice.model)
        self.session = session

    def generate(
        self,
        messages: list[Any],
        stop_sequences: list[str] | None = None,
        response_format: dict[str, str] | None = None,
        tools_to_call_from: list[Tool] | None = None,
        **kwargs: Any,
    ) -> ChatMessage:
        session = self.session
        system, turns = to_chat(messages)
        specs = [tool.spec for tool in tools_to_call_from or [] if isinstance(tool, _Offered)]
        started = _moment()
        reply = session.bridge.call(
            functools.partial(
                session.llm.chat,
                "thought",
                turns,
                system=system,
                tools=specs,
                require_tool=bool(specs),
            )
        )
        session.last_reply_at = _moment()
        names = [call.name for call in reply.tool_calls]
        thought = reply.text.strip() or (
            f"Calling {', '.join(names)}." if names else "(no text and no tool call)"
        )
        session.record(make_step("thought", thought, started=started, ended=session.last_reply_at))
        return ChatMessage(
            role=MessageRole.ASSISTANT,
            content=reply.text,
            tool_calls=[_tool_call(c.call_id, c.name, dict(c.arguments)) for c in reply.tool_calls]
            or None,
            token_usage=TokenUsage(reply.usage.input_tokens, reply.usage.output_tokens),
        )

    def parse_tool_calls(self, message: ChatMessage) -> ChatMessage:
        """A reply without a native tool call may still hold one as JSON text (the spec's
        `{"thought", "tool", "arguments"}` or `{"thought", "final_answer"}`)."""
        text = _content_text(message.content).strip()
        if text.startswith("```"):
            text = text.strip("`").removeprefix("json").strip()
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict) and FINAL_ANSWER in value:
            message.tool_calls = [
                _tool_call("text-0", FINAL_ANSWER, {"answer": value[FINAL_ANSWER]})
            ]
            return message
        if isinstance(value, dict) and isinstance(value.get("tool"), str):
            message.tool_calls = [_tool_call("text-0", value["tool"], value.get("arguments") or {})]
            return message
        raise ValueError(
            "the reply called no tool: call one of the tools, or final_answer with the answer"
        )


# -- tools ---------------------------------------------------------------------------------------


class _Offered(Tool):
    """A smolagents tool whose arguments we check ourselves (`inputs` accept anything, so
    smolagents' own type check never speaks first) and which carries our `ToolSpec`."""

    skip_forward_signature_validation = True
    output_type = "any"
    spec: ToolSpec

    def __init__(self, spec: ToolSpec) -> None:
        self.name = spec.name
        self.description = spec.description
        self.inputs = {
            key: {
                "type": "any",
                "description": str(schema.get("description", key)),
                "nullable": True,
            }
            for key, schema in dict(spec.parameters.get("properties", {})).items()
        }
        self.spec = spec
        super().__init__()


class BridgedTool(_Offered):
    def __init__(self, tool: AgentTool, session: Session) -> None:
        self.tool = tool
        self.session = session
        super().__init__(ToolSpec(tool.name, tool.description, tool.parameters))

    def forward(self, *args: Any, **kwargs: Any) -> str:
        if args:
            raise ToolError(f"the arguments of {self.tool.name} must be a JSON object")
        session = self.session
        return session.bridge.call(
            functools.partial(call_tool, self.tool, session.kit, kwargs, session.tool_timeout)
        )


class FinalAnswer(_Offered):
    def __init__(self, session: Session) -> None:
        self.session = session
        answer: dict[str, Any] = {
            "description": "the final answer, valid against the output schema"
        }
        kind = session.output.schema.get("type")
        if isinstance(kind, str):
            answer["type"] = kind
        super().__init__(
            ToolSpec(
                FINAL_ANSWER,
                "Give the final answer (valid against the output schema of the instructions).",
                {"type": "object", "properties": {"answer": answer}, "required": ["answer"]},
            )
        )

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if "answer" not in kwargs:
            raise ToolError("final_answer needs the argument 'answer'")
        answer = self.session.output.normalize(kwargs["answer"])
        self.session.offered_answer = answer
        return answer


# -- the loop -------------------------------------------------------------------------------------


@dataclass
class FactsAndPlan(PlanningStep):
    facts: str = ""

    def to_messages(self, summary_mode: bool = False) -> list[ChatMessage]:
        if summary_mode:
            return []
        return [
            ChatMessage(
                role=MessageRole.ASSISTANT,
                content=[{"type": "text", "text": f"Facts:\n{self.facts}\n\nPlan:\n{self.plan}"}],
            ),
            ChatMessage(role=MessageRole.USER, content=[{"type": "text", "text": prompts.NEXT}]),
        ]


class AgentLoop(ToolCallingAgent):
    def __init__(
        self, session: Session, max_actions: int, planning_interval: int, budget: int
    ) -> None:
        """`max_actions`: actions left to this run; `budget`: the execution's maxActions."""
        self.session = session
        self.budget = budget
        tools: list[Tool] = [BridgedTool(tool, session) for tool in session.tools]
        tools.append(FinalAnswer(session))
        super().__init__(
            tools=tools,
            model=BridgedModel(session),
            prompt_templates=_EMPTY_TEMPLATES,
            planning_interval=planning_interval,
            max_steps=max_actions,
            verbosity_level=LogLevel.OFF,
            final_answer_checks=[self._output_schema],
            step_callbacks={ActionStep: self._action_done},
        )

    def initialize_system_prompt(self) -> str:
        # our text as is: smolagents would render it as a Jinja template
        return self.session.system_text

    # -- final answers

    def _output_schema(self, answer: Any, memory: Any, agent: Any = None) -> bool:
        problems = self.session.output.problems(answer)
        if problems:
            raise ValueError(f"the answer does not match the output schema: {problems}")
        return True

    def provide_final_answer(self, task: str) -> ChatMessage:
        """The budget is spent: one structured call without tools; its answer must be valid."""
        session = self.session
        started = _moment()
        system, turns = to_chat(self.write_memory_to_messages())
        turns.append(Message("user", prompts.LAST_ANSWER))
        try:
            value = session.bridge.call(
                functools.partial(
                    session.llm.structured,
                    "thought",
                    turns,
                    schema=session.output.schema,
                    system=system,
                )
            )
        except AIError as exc:
            if exc.error_type != "llm_output_invalid":
                raise
            raise RunFailure(
                "max_actions_exceeded",
                f"all {self.budget} actions were used and the last answer was not valid: "
                f"{exc.message}",
            ) from None
        value = session.output.normalize(value)
        problems = session.output.problems(value)
        if problems:
            raise RunFailure(
                "max_actions_exceeded",
                f"all {self.budget} actions were used and the last answer does not match the "
                f"output schema: {problems}",
            )
        session.record(make_step("thought", prompts.LAST_THOUGHT, started=started))
        session.accept(value, started)
        return ChatMessage(role=MessageRole.ASSISTANT, content=session.output.text(value))

    # -- steps as they end

    def _action_done(self, step: ActionStep, agent: Any = None) -> None:
        session = self.session
        if session.bridge.stopped or step.model_output_message is None:
            return  # stopped, or the model call failed (the run ends with that failure)
        if isinstance(step.error, AgentMaxStepsError):
            return  # recorded by provide_final_answer
        if step.is_final_answer:
            session.accept(session.offered_answer, session.last_reply_at)
            return
        calls = [call for call in step.tool_calls or [] if call.name != FINAL_ANSWER]
        if calls:
            code = truncate("\n".join(render_call(c.name, c.arguments) for c in calls))
            session.record(make_step("code", code, started=session.last_reply_at))
        parts = [step.observations or ""]
        if step.error is not None:
            parts.append(str(step.error))
        observation = truncate("\n".join(part for part in parts if part).strip() or "(none)")
        session.record(
            make_step("observation", observation, started=session.last_reply_at),
            count_action=True,
        )

    def _generate_planning_step(self, task: str, is_first_step: bool, step: int) -> Any:
        """Fact extraction, then the plan: two calls of their own roles, two steps."""
        session = self.session
        start = time.time()
        _, turns = to_chat(self.write_memory_to_messages(summary_mode=True))
        facts_started = _moment()
        facts_reply = session.bridge.call(
            functools.partial(
                session.llm.chat,
                "fact",
                [*turns, Message("user", prompts.FACTS_REQUEST)],
                system=prompts.FACTS_SYSTEM,
            )
        )
        facts = facts_reply.text.strip() or "(none)"
        session.record(make_step("fact", facts, started=facts_started))
        plan_started = _moment()
        remaining = self.max_steps - step + 1
        plan_reply = session.bridge.call(
            functools.partial(
                session.llm.chat,
                "planner",
                [*turns, Message("user", prompts.plan_request(facts, remaining))],
                system=prompts.plan_system(session.tools),
            )
        )
        plan = plan_reply.text.strip() or "(none)"
        session.record(make_step("plan", plan, started=plan_started))
        yield FactsAndPlan(
            model_input_messages=[],
            model_output_message=ChatMessage(role=MessageRole.ASSISTANT, content=plan),
            plan=plan,
            timing=Timing(start_time=start, end_time=time.time()),
            token_usage=TokenUsage(
                facts_reply.usage.input_tokens + plan_reply.usage.input_tokens,
                facts_reply.usage.output_tokens + plan_reply.usage.output_tokens,
            ),
            facts=facts,
        )


def restore(loop: AgentLoop, task: str, steps: Sequence[Mapping[str, Any]]) -> None:
    """Rebuild smolagents' memory from recorded steps (a resumed run): planning steps, and each
    thought with its code and observation as one action; a thought whose action never finished
    (the pause came in between) is dropped, so the model decides again."""
    restored: list[Any] = [TaskStep(task=task)]
    facts: str | None = None
    action: ActionStep | None = None
    number = 0
    for recorded in steps:
        kind, payload = step_type(recorded), step_payload(recorded)
        text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
        if kind == "fact":
            facts = text
        elif kind == "plan":
            restored.append(
                FactsAndPlan(
                    model_input_messages=[],
                    model_output_message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
                    plan=text,
                    timing=Timing(start_time=time.time()),
                    facts=facts or "",
                )
            )
        elif kind == "thought":
            number += 1
            action = ActionStep(step_number=number, timing=Timing(start_time=time.time()))
            action.model_output = text
        elif kind == "code" and action is not None:
            action.model_output = f"{action.model_output}\nCalling: {text}"
        elif kind == "observation" and action is not None:
            action.observations = text
            restored.append(action)
            action = None
    loop.memory.steps = restored
