"""The texts the agent loop sends to its models (plain strings, never templates: instructions
come from users and must not be interpreted)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .tools import AgentTool

MAX_SCHEMA_CHARS: Final = 20_000  # the output schema as shown in the system text
MAX_INPUT_CHARS: Final = 50_000  # agentInput as shown in the task


def _json(value: Any, limit: int) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return text if len(text) <= limit else text[:limit] + "\n[... cut]"


def system_text(
    *,
    agent_name: str,
    system_prompt: str | None,
    instructions: str,
    tools: Sequence[AgentTool],
    unavailable: Sequence[tuple[str, str]],
    output_schema: Mapping[str, Any],
) -> str:
    parts = []
    if system_prompt:
        parts.append(system_prompt.strip())
    parts.append(
        f"You are the agent '{agent_name}'. You solve the task step by step: in each reply, "
        "think briefly (one or two sentences of text), then call exactly one tool. When you "
        "know the answer, call `final_answer` with it as `answer`."
    )
    parts.append("Instructions:\n" + instructions.strip())
    listed = [f"- {tool.name}: {tool.description}" for tool in tools]
    listed.append("- final_answer: give the final answer (argument `answer`).")
    parts.append("Tools:\n" + "\n".join(listed))
    if unavailable:
        parts.append(
            "Tools configured but not available in this run (do not call them):\n"
            + "\n".join(f"- {name}: {reason}" for name, reason in unavailable)
        )
    parts.append(
        "The final answer must be valid against this JSON Schema (Draft 7):\n"
        + _json(output_schema, MAX_SCHEMA_CHARS)
    )
    return "\n\n".join(parts)


def task_text(summary: str, agent_input: Mapping[str, Any]) -> str:
    return f"{summary}\n\nInput (JSON):\n{_json(agent_input, MAX_INPUT_CHARS)}"


RESUMED: Final = (
    "The run was paused and is now resumed: continue the task above from where the steps so "
    "far left it."
)

FACTS_SYSTEM: Final = (
    "You keep the facts of an agent's task in order. From the task and the steps so far, "
    "write three short lists: facts given in the task, facts learned from the observations, "
    "facts still to find out. Write only the lists."
)


def plan_system(tools: Sequence[AgentTool]) -> str:
    names = ", ".join([tool.name for tool in tools] + ["final_answer"])
    return (
        "You plan an agent's next actions. Write a short numbered plan of the tool calls that "
        f"lead to the final answer (tools: {names}). Write only the plan."
    )


def plan_request(facts: str, remaining: int) -> str:
    return (
        f"Facts:\n{facts}\n\nAt most {remaining} actions remain. Write the plan of the next "
        "actions, ending with the final answer."
    )


FACTS_REQUEST: Final = "List the facts now."
NEXT: Final = "Now carry out the plan."

LAST_ANSWER: Final = (
    "No actions are left. Give the final answer now, as JSON valid against the output schema, "
    "from what is known so far."
)
LAST_THOUGHT: Final = "The action budget is spent: answering with what is known so far."

CRITIQUE_SYSTEM: Final = (
    "You review an agent's final answer against its task, instructions and findings. Say "
    "whether it can be improved (`improve`) and how (`critique`)."
)
CRITIQUE_SCHEMA: Final = {
    "type": "object",
    "properties": {"improve": {"type": "boolean"}, "critique": {"type": "string"}},
    "required": ["improve", "critique"],
}


def critique_request(answer_text: str) -> str:
    return f"The final answer given:\n{answer_text}\n\nCan it be improved? Answer as JSON."


def revise_request(critique: str) -> str:
    return (
        f"Revise the final answer following this critique:\n{critique}\n\nGive the revised "
        "final answer as JSON valid against the output schema."
    )
