"""An in-memory `AgentHost` (files, datasets, recorded memory states, cancel and pause flags)
and an `AgentSpec` builder, for the agent runtime's tests."""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from moderately.agents.host import AgentSpec, ResourceInfo
from moderately.engine.context import DatasetInfo, DatasetRows, FileInfo
from moderately.ids import new_id


@dataclass
class StoredFile:
    name: str
    mime_type: str
    data: bytes


@dataclass
class MemoryAgentHost:
    files: dict[str, StoredFile] = field(default_factory=dict)
    datasets: dict[str, DatasetRows] = field(default_factory=dict)
    digests: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)  # one per record(), deep copies
    thoughts: list[str] = field(default_factory=list)
    current_steps: list[int | None] = field(default_factory=list)
    created: dict[str, tuple[str, str]] = field(default_factory=dict)
    # called after each record (e.g. to pause after the nth step)
    on_record: Callable[[MemoryAgentHost], Awaitable[None]] | None = None
    _cancel: threading.Event = field(default_factory=threading.Event)
    _pause: threading.Event = field(default_factory=threading.Event)
    _execution_id: str = field(default_factory=new_id)

    # -- test set-up

    def add_file(self, name: str, data: bytes | str, mime_type: str = "text/plain") -> str:
        file_id = new_id()
        raw = data.encode() if isinstance(data, str) else data
        self.files[file_id] = StoredFile(name, mime_type, raw)
        return file_id

    def add_dataset(
        self, name: str, rows: list[dict[str, Any]], columns: list[dict[str, Any]] | None = None
    ) -> str:
        dataset_id = new_id()
        self.datasets[dataset_id] = DatasetRows(dataset_id, rows, columns or [], name)
        return dataset_id

    def cancel(self) -> None:
        self._cancel.set()

    def pause(self) -> None:
        self._pause.set()

    def clear_pause(self) -> None:
        self._pause.clear()

    @property
    def steps(self) -> list[dict[str, Any]]:
        return list(self.states[-1]["steps"]) if self.states else []

    def step_types(self) -> list[str]:
        return [step["stepType"] for step in self.steps]

    # -- AgentHost

    @property
    def execution_id(self) -> str:
        return self._execution_id

    async def get_file(self, file_id: str) -> FileInfo | None:
        stored = self.files.get(file_id)
        if stored is None:
            return None
        digest = hashlib.sha256(stored.data).hexdigest()
        return FileInfo(file_id, stored.name, stored.mime_type, len(stored.data), digest)

    async def read_file(self, file_id: str) -> bytes:
        return self.files[file_id].data

    async def get_dataset(self, dataset_id: str) -> DatasetInfo | None:
        rows = self.datasets.get(dataset_id)
        return None if rows is None else DatasetInfo(dataset_id, rows.name)

    async def read_dataset(self, dataset_id: str) -> DatasetRows:
        return self.datasets[dataset_id]

    async def list_resources(self) -> list[ResourceInfo]:
        found = [
            ResourceInfo(file_id, "file", stored.name, len(stored.data), mime_type=stored.mime_type)
            for file_id, stored in self.files.items()
        ]
        found.extend(
            ResourceInfo(dataset_id, "dataset", rows.name or dataset_id, row_count=len(rows.rows))
            for dataset_id, rows in self.datasets.items()
        )
        return found

    async def create_text_file(self, name: str, content: str) -> str:
        file_id = self.add_file(name, content)
        self.created[file_id] = (name, content)
        return file_id

    async def execution_digest(self, agent_execution_id: str) -> dict[str, Any] | None:
        return self.digests.get(agent_execution_id)

    async def record(
        self,
        state: Mapping[str, Any],
        *,
        thought: str | None = None,
        current_step: int | None = None,
    ) -> None:
        self.states.append(copy.deepcopy(dict(state)))
        if thought is not None:
            self.thoughts.append(thought)
        self.current_steps.append(current_step)
        if self.on_record is not None:
            await self.on_record(self)

    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def pause_requested(self) -> bool:
        return self._pause.is_set()


ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "line": {"type": "integer"}},
    "required": ["answer", "line"],
    "additionalProperties": False,
}

BASE_SPEC = AgentSpec(
    execution_id="exec",
    team_id="team",
    agent_name="Reader",
    instructions="Answer the question from the documents.",
    system_prompt=None,
    llm_config={},
    tool_config=[],
    input_schema={"type": "object"},
    output_schema=ANSWER_SCHEMA,
    agent_input={},
    agent_input_summary="Find the answer",
    max_actions=5,
    planning_interval=10,
    feedback_rounds=0,
    timeout_seconds=120.0,
    tool_timeout_seconds=30.0,
)


def spec_for(host: MemoryAgentHost, *tools: str, **changes: Any) -> AgentSpec:
    """`BASE_SPEC` for this host's execution, offering `tools`, with `changes`."""
    tool_config = [{"type": name} for name in tools]
    return replace(BASE_SPEC, execution_id=host.execution_id, tool_config=tool_config, **changes)


# -- the loopback provider's side ---------------------------------------------------------------


def request_system(body: Mapping[str, Any]) -> str:
    """The system text of a recorded OpenAI-protocol request."""
    return "\n".join(
        str(message.get("content") or "")
        for message in body.get("messages") or ()
        if message.get("role") == "system"
    )


def request_text(body: Mapping[str, Any]) -> str:
    """Every message's text of a request, joined (to look for what the model was shown)."""
    return "\n".join(str(message.get("content") or "") for message in body.get("messages") or ())


def request_kind(body: Mapping[str, Any]) -> str:
    """Which call of the loop an OpenAI-protocol request is: fact, plan, thought (offered
    tools), critique or answer (a structured call), else text (a tool's own call)."""
    from moderately.agents import prompts

    system = request_system(body)
    if isinstance(body.get("response_format"), dict):
        schema = body["response_format"].get("json_schema", {}).get("schema", {})
        return "critique" if "improve" in (schema.get("properties") or {}) else "answer"
    if system.startswith(prompts.FACTS_SYSTEM):
        return "fact"
    if system.startswith("You plan an agent's"):
        return "plan"
    if body.get("tools"):
        return "thought"
    return "text"
