"""The contract between the agent runtime and whoever runs it.

The runtime (agents/runtime.py) never imports the database or the API; the worker's job
(jobs/agent_execute.py) implements `AgentHost` for one execution (team-scoped resources, memory
states, thoughts, cancel and pause flags), tests implement it in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from moderately.engine.context import DatasetInfo, DatasetRows, FileInfo
from moderately.statuses import FinalStatus

__all__ = ["TOOL_NAMES", "AgentHost", "AgentOutcome", "AgentSpec", "ResourceInfo"]

# The 29 tool names a configuration's toolConfig may name (docs/reference/openapi.json).
TOOL_NAMES: tuple[str, ...] = (
    "GetDateTool",
    "ResourceSearchTool",
    "ResourceListTool",
    "ResourceStructureTool",
    "RelatedResourcesTool",
    "ResourceSampleTool",
    "ResourceSectionTool",
    "ResourceFindLinesTool",
    "ResourceReadLinesTool",
    "ResourceSummarizationTool",
    "ResourceQuestionAnsweringTool",
    "ResourceStructuredExtractionTool",
    "ResourceEntitiesExtractionTool",
    "ResourcePrioritizationTool",
    "TavilySearchTool",
    "GenericSearchTool",
    "PatentSearchTool",
    "PubmedSearchTool",
    "ClinicalTrialSearchTool",
    "SummaryTool",
    "CriticalAnalysisTool",
    "DraftWritingTool",
    "WritingFeedbackTool",
    "ResourceGroundedEditorTool",
    "ClassifyEntitiesFromTextTool",
    "RegexSearchTool",
    "ScrapeWebsiteTool",
    "ResourceCreationTool",
    "AskAgentRunTool",
)


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """Everything one execution runs with, frozen when the run starts (memory version 1)."""

    execution_id: str
    team_id: str
    agent_name: str
    instructions: str
    system_prompt: str | None
    llm_config: Mapping[str, Any]  # roles thought_llm / fact_extraction_llm / planner_llm
    tool_config: list[Mapping[str, Any]]  # [{"type": "<ToolName>", "config": {...}}]
    input_schema: Mapping[str, Any]
    output_schema: Mapping[str, Any]
    agent_input: Mapping[str, Any]
    agent_input_summary: str
    max_actions: int
    planning_interval: int
    feedback_rounds: int = 0
    timeout_seconds: float = 1800.0
    tool_timeout_seconds: float = 60.0


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """A team file (completed upload) or dataset, as the resource tools list it."""

    resource_id: str
    kind: Literal["file", "dataset"]
    name: str
    size: int | None = None  # bytes of a file
    row_count: int | None = None  # rows of a dataset's current data version
    mime_type: str | None = None


@dataclass(slots=True)
class AgentOutcome:
    """How a run ended. `output` is the `agentOutput` object."""

    status: FinalStatus
    output: dict[str, Any] | None = None
    output_summary: str | None = None
    error_type: str | None = None  # failed: timeout, max_actions_exceeded, llm_call_failed, ...
    message: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)  # {"input_tokens", "output_tokens", ...}


class AgentHost(Protocol):
    """The host of one agent execution; lookups are scoped to the execution's team (another
    team's id is simply not found)."""

    @property
    def execution_id(self) -> str: ...

    async def get_file(self, file_id: str) -> FileInfo | None: ...

    async def read_file(self, file_id: str) -> bytes: ...

    async def get_dataset(self, dataset_id: str) -> DatasetInfo | None: ...

    async def read_dataset(self, dataset_id: str) -> DatasetRows: ...

    async def list_resources(self) -> list[ResourceInfo]:
        """Every completed file and every dataset of the team."""
        ...

    async def create_text_file(self, name: str, content: str) -> str:
        """A new text file in the team (ResourceCreationTool); returns its file id."""
        ...

    async def execution_digest(self, agent_execution_id: str) -> dict[str, Any] | None:
        """Another agent execution of the team (AskAgentRunTool): `{"status", "agentOutput",
        "agentOutputSummary", "steps"}` with the steps of its latest memory state; None when
        not found."""
        ...

    async def record(
        self,
        state: Mapping[str, Any],
        *,
        thought: str | None = None,
        current_step: int | None = None,
    ) -> None:
        """Save `state` as the execution's next memory-state version; append `thought` to the
        execution's `thoughts`; set `currentStep`. Called after every step."""
        ...

    def cancel_requested(self) -> bool:
        """True once the execution is cancelled (or deleted); cheap, polled often."""
        ...

    def pause_requested(self) -> bool: ...
