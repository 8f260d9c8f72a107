"""An execution's working memory as the live tail shows it, saved after every step.

A step is `{"stepType", <payload key>: payload, "startedAt", "endedAt", "summary"}` in the
camelCase shape of docs/agents.md (`fact` -> `facts`, `final_answer` -> `finalAnswer`, every
other kind under its own name). The state saved as each memory-state version is
`{"steps", "action_count", "plan", "facts", "usage", "elapsed_seconds"}` (the last one lets a
resumed run keep its time limit across pauses).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, Literal

from ..timeutil import format_timestamp, utcnow
from .host import AgentHost
from .llm import UsageMeter

StepType = Literal[
    "task", "thought", "code", "observation", "plan", "fact", "system", "final_answer"
]
PAYLOAD_KEYS: Final[Mapping[str, str]] = {
    "task": "task",
    "thought": "thought",
    "code": "code",
    "observation": "observation",
    "plan": "plan",
    "fact": "facts",
    "system": "system",
    "final_answer": "finalAnswer",
}
SUMMARY_CHARS: Final = 200


def summary_of(text: str) -> str:
    """The first line-ish of a text, at most SUMMARY_CHARS characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 3] + "..."


def make_step(
    step_type: StepType,
    payload: Any,
    *,
    started: datetime,
    ended: datetime | None = None,
    summary: str | None = None,
) -> dict[str, Any]:
    text = payload if isinstance(payload, str) else str(payload.get("output", ""))
    return {
        "stepType": step_type,
        PAYLOAD_KEYS[step_type]: payload,
        "startedAt": format_timestamp(started),
        "endedAt": format_timestamp(ended or utcnow()),
        "summary": summary if summary is not None else summary_of(text),
    }


def step_payload(step: Mapping[str, Any]) -> Any:
    """The payload of a recorded step (camelCase or snake_case form)."""
    kind = step.get("stepType", step.get("step_type"))
    key = PAYLOAD_KEYS.get(str(kind), str(kind))
    return step.get(key, step.get(str(kind)))


def step_type(step: Mapping[str, Any]) -> str:
    return str(step.get("stepType", step.get("step_type", "")))


class Memory:
    """The steps so far and the counters the loop keeps; `add` saves a new version.
    Used on the event loop only (the loop's thread reaches it through the bridge)."""

    def __init__(
        self,
        host: AgentHost,
        meter: UsageMeter,
        resume_state: Mapping[str, Any] | None = None,
    ) -> None:
        self.host = host
        self.meter = meter
        state = resume_state or {}
        self.steps: list[dict[str, Any]] = [
            dict(step) for step in state.get("steps") or [] if isinstance(step, Mapping)
        ]
        self.action_count = int(state.get("action_count") or 0)
        self.plan: str | None = state.get("plan") if isinstance(state.get("plan"), str) else None
        self.facts: str | None = state.get("facts") if isinstance(state.get("facts"), str) else None
        self.elapsed_before = float(state.get("elapsed_seconds") or 0.0)
        self.elapsed_now = 0.0  # seconds of this stretch of the run, kept current by the runtime
        # Called after each saved version: the runtime heeds a cancel or pause right there.
        self.on_saved: Callable[[], None] | None = None

    def state(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "action_count": self.action_count,
            "plan": self.plan,
            "facts": self.facts,
            "usage": self.meter.as_dict(),
            "elapsed_seconds": round(self.elapsed_before + self.elapsed_now, 3),
        }

    async def add(self, step: dict[str, Any], *, count_action: bool = False) -> None:
        """Append `step` (a `thought` also goes to the execution's thoughts), count an action
        when it ends one, and save the whole memory as the next version."""
        self.steps.append(step)
        kind = step["stepType"]
        if kind == "plan":
            self.plan = step["plan"]
        elif kind == "fact":
            self.facts = step["facts"]
        if count_action:
            self.action_count += 1
        thought = step["thought"] if kind == "thought" else None
        await self.host.record(self.state(), thought=thought, current_step=self.action_count)
        if self.on_saved is not None:
            self.on_saved()
