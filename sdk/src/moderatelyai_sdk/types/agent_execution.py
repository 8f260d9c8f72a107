from typing import Any, ClassVar, Dict, List, Optional

from pydantic import Field

from .._models import BaseModel, Timestamp
from .._pipelines import TERMINAL_STATUSES

__all__ = [
    "AgentExecution",
    "AgentFinalAnswer",
    "AgentLiveTail",
    "AgentLiveTailExecution",
    "AgentMemoryState",
    "AgentStep",
    "AgentThought",
]


class AgentThought(BaseModel):
    """One reasoning note of a running agent."""

    text: str
    created_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")


class AgentExecution(BaseModel):
    """One run of an agent configuration version on an input (wire: ``AgentExecution``)."""

    agent_execution_id: str
    agent_configuration_version_id: str
    agent_id: Optional[str] = None
    agent_input: Dict[str, Any] = Field(default_factory=dict)
    agent_input_schema: Any = None
    agent_input_summary: Optional[str] = None
    agent_output: Optional[Dict[str, Any]] = None
    """The validated final answer once completed."""
    agent_output_schema: Any = None
    agent_output_summary: Optional[str] = None
    """Short text of the answer; ``"Failed: <reason>"`` when the run failed."""
    status: str
    """``pending``, ``running``, ``completed``, ``failed``, ``cancelled`` or ``paused``."""
    thoughts: List[AgentThought] = Field(default_factory=list)
    max_actions: Optional[int] = None
    current_step: Optional[int] = None
    """Actions taken so far."""
    planning_interval: Optional[int] = None
    usage: Optional[Dict[str, Any]] = None
    """LLM token use of the run (``input_tokens``, ``output_tokens``, ...), where reported."""
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    started_at: Optional[str] = None
    completed_at: Optional[str] = None
    failed_at: Optional[str] = None
    cancelled_at: Optional[str] = None
    paused_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")
    started_at_datetime: ClassVar[Timestamp] = Timestamp("started_at")
    completed_at_datetime: ClassVar[Timestamp] = Timestamp("completed_at")
    failed_at_datetime: ClassVar[Timestamp] = Timestamp("failed_at")
    cancelled_at_datetime: ClassVar[Timestamp] = Timestamp("cancelled_at")
    paused_at_datetime: ClassVar[Timestamp] = Timestamp("paused_at")

    @property
    def execution_id(self) -> str:
        """The execution's ID (``agentExecutionId``)."""
        return self.agent_execution_id

    @property
    def is_terminal(self) -> bool:
        """Completed, failed or cancelled: the status will not change any more."""
        return self.status in TERMINAL_STATUSES


class AgentFinalAnswer(BaseModel):
    """The payload of a ``final_answer`` step."""

    type: str = "final_answer"
    output: str = ""
    """The answer as text (JSON text for a structured answer)."""
    resource_ids: List[str] = Field(default_factory=list)
    """Files the run created plus team resources the answer cites."""


class AgentStep(BaseModel):
    """One step of an agent's memory: ``step_type`` names which payload field is set (``task``,
    ``thought``, ``code``, ``observation``, ``plan``, ``facts`` for ``fact``, ``system``,
    ``final_answer``). The wire sends steps in camelCase or snake_case; both read the same."""

    step_type: Optional[str] = None
    started_at: Optional[str] = None
    ended_at: Optional[str] = None
    summary: Optional[str] = None
    task: Optional[str] = None
    thought: Optional[str] = None
    code: Optional[str] = None
    observation: Optional[str] = None
    plan: Optional[str] = None
    facts: Optional[str] = None
    system: Optional[str] = None
    final_answer: Optional[AgentFinalAnswer] = None

    started_at_datetime: ClassVar[Timestamp] = Timestamp("started_at")
    ended_at_datetime: ClassVar[Timestamp] = Timestamp("ended_at")

    @property
    def content(self) -> Any:
        """The payload of this step's type (the text, or the ``AgentFinalAnswer``)."""
        field = "facts" if self.step_type == "fact" else self.step_type
        return getattr(self, field, None) if field in type(self).model_fields else None


class AgentMemoryState(BaseModel):
    """One saved version of an execution's working memory (``state["steps"]`` and the rest of
    what the runtime keeps); version 1 is the start, each step adds one."""

    agent_execution_memory_state_id: str
    agent_execution_id: str
    state: Dict[str, Any] = Field(default_factory=dict)
    version: int
    created_at: Optional[str] = None
    updated_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")


class AgentLiveTailExecution(BaseModel):
    """The execution summary of a live-tail snapshot."""

    agent_execution_id: str
    status: str
    current_step: Optional[int] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    started_at: Optional[str] = None
    completed_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")
    started_at_datetime: ClassVar[Timestamp] = Timestamp("started_at")
    completed_at_datetime: ClassVar[Timestamp] = Timestamp("completed_at")

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class AgentLiveTail(BaseModel):
    """What a live view of an execution needs, in one call: its status, the latest memory state,
    that state's steps (all of them, oldest first) and how many versions exist."""

    execution: AgentLiveTailExecution
    latest_memory_state: Optional[AgentMemoryState] = None
    steps: List[AgentStep] = Field(default_factory=list)
    total_versions: int = 0
