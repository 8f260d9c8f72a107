"""Request and response models of agent configuration versions, agent executions, memory states
and the live tail.

Shapes are checked here; the rules that need the settings or the database (timeout bound,
Draft 7 schemas, the version's team) are in services/agent_configurations.py and
services/agent_executions.py.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from moderately.agents.host import TOOL_NAMES
from moderately.ai.types import PROVIDERS, TIERS
from moderately.schemas.base import (
    NO_NUL,
    IdRef,
    RequestModel,
    ResponseModel,
    Timestamp,
    document_snake_aliases,
)
from moderately.statuses import Among, ExecutionStatus

# Instructions and prompts are long prose; bounded so a version stays a reasonable row.
PromptText = Annotated[str, Field(max_length=100_000, pattern=NO_NUL)]
InputSummary = Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)]
MAX_TOOLS = 100
ToolName = Literal[TOOL_NAMES]  # type: ignore[valid-type]
Provider = Literal[PROVIDERS]  # type: ignore[valid-type]
Tier = Literal[TIERS]  # type: ignore[valid-type]

# executionConfig bounds (timeout_minutes' upper bound is a setting).
EXECUTION_DEFAULTS = {
    "max_actions": 10,
    "planning_interval": 4,
    "feedback_rounds": 0,
    "timeout_minutes": 30,
}


class LlmRole(BaseModel):
    """One role of `llmConfig`: provider and tier required, unknown keys refused."""

    model_config = ConfigDict(
        extra="forbid", protected_namespaces=(), validate_by_name=True, validate_by_alias=True
    )

    provider: Provider
    model_tier: Tier
    model: Annotated[str, Field(min_length=1, max_length=255, pattern=NO_NUL)] | None = None
    enable_reasoning: bool | None = None
    options: dict[str, Any] | None = Field(default=None, alias="model_config")


class LlmConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thought_llm: LlmRole | None = None
    fact_extraction_llm: LlmRole | None = None
    planner_llm: LlmRole | None = None


class ToolEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: ToolName
    config: dict[str, Any] | None = None


class ExecutionConfig(BaseModel):
    """Missing keys take the defaults; `timeout_minutes`' upper bound is checked against
    MODERATELY_AGENT_MAX_TIMEOUT_SECONDS by the service."""

    model_config = ConfigDict(extra="forbid")

    max_actions: int = Field(default=10, ge=1, le=100)
    planning_interval: int = Field(default=4, ge=1, le=50)
    feedback_rounds: int = Field(default=0, ge=0, le=5)
    timeout_minutes: int = Field(default=30, ge=1, le=10_000_000)


Schema = dict[str, Any] | bool


# ---- configuration versions ----


class AgentVersionSort(StrEnum):
    version_number = "versionNumber"
    created_at = "createdAt"


class AgentVersionPublic(ResponseModel):
    agent_configuration_version_id: str
    agent_id: str
    instructions: str
    input_schema: Any
    output_schema: Any
    version_number: int
    is_current: bool
    system_prompt: str | None
    llm_config: dict[str, Any]
    tool_config: list[dict[str, Any]]
    execution_config: dict[str, Any]
    created_at: Timestamp
    updated_at: Timestamp


class AgentVersionCreate(RequestModel):
    agent_id: IdRef
    instructions: Annotated[PromptText, Field(min_length=1)]
    input_schema: Schema = Field(description="Draft 7 JSON Schema of agentInput")
    output_schema: Schema = Field(description="Draft 7 JSON Schema of agentOutput")
    version_number: int = Field(ge=1, le=2**31 - 1, description="unique per agent (409)")
    is_current: bool = Field(description="true demotes the agent's other current version")
    system_prompt: PromptText | None
    llm_config: LlmConfig
    tool_config: Annotated[list[ToolEntry], Field(max_length=MAX_TOOLS)]
    execution_config: ExecutionConfig


class AgentVersionUpdate(RequestModel):
    instructions: Annotated[PromptText, Field(min_length=1)] | None = None
    input_schema: Schema | None = None
    output_schema: Schema | None = None
    is_current: bool | None = Field(default=None, description="null: unchanged")
    system_prompt: PromptText | None = Field(default=None, description="null clears it")
    llm_config: LlmConfig | None = None
    tool_config: Annotated[list[ToolEntry], Field(max_length=MAX_TOOLS)] | None = None
    execution_config: ExecutionConfig | None = None


# ---- executions ----


class AgentExecutionPublic(ResponseModel):
    agent_execution_id: str
    agent_configuration_version_id: str
    agent_id: str = Field(description="extension: the agent of the configuration version")
    agent_input: dict[str, Any]
    agent_input_schema: Any
    agent_output_schema: Any
    agent_input_summary: str
    agent_output: dict[str, Any] | None
    agent_output_summary: str | None
    status: ExecutionStatus
    thoughts: list[dict[str, Any]] = Field(description="[{text, createdAt}]")
    max_actions: int | None
    current_step: int | None
    planning_interval: int | None
    usage: dict[str, Any] | None = Field(
        description="extension: LLM token usage of the run ({input_tokens, output_tokens, ...})"
    )
    created_at: Timestamp
    updated_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None
    failed_at: Timestamp | None
    cancelled_at: Timestamp | None
    paused_at: Timestamp | None


def _version_or_agent(schema: dict[str, Any], model: type[BaseModel]) -> None:
    document_snake_aliases(schema, model)
    schema["anyOf"] = [
        {"required": [key], "properties": {key: {"type": "string"}}}
        for key in ("agentConfigurationVersionId", "agentId", "agent_id")
    ]


class AgentExecutionCreate(RequestModel):
    """The spec's body, or 0.2.7's `{agent_id, input_data}`: the agent's
    current configuration version, input `{}` by default, summary `Execution of <name>`.
    One of agentConfigurationVersionId and agentId is required."""

    model_config = ConfigDict(json_schema_extra=_version_or_agent)

    agent_configuration_version_id: IdRef | None = None
    agent_id: IdRef | None = Field(
        default=None, validation_alias=AliasChoices("agentId", "agent_id")
    )
    agent_input: dict[str, Any] | None = Field(
        default=None,
        validation_alias=AliasChoices("agentInput", "agent_input", "inputData", "input_data"),
    )
    agent_input_summary: InputSummary | None = None
    agent_input_schema: Schema | None = None
    agent_output_schema: Schema | None = None
    max_actions: int | None = Field(default=None, ge=1, le=100)
    planning_interval: int | None = Field(default=None, ge=1, le=50)

    @model_validator(mode="before")
    @classmethod
    def _null_agent_id_is_absent(cls, data: Any) -> Any:
        """`agentId: null` beside 0.2.7's `agent_id` says nothing: the agent_id is used (an
        explicit null can't name the agent, so camelCase winning would only refuse the body)."""
        if isinstance(data, dict) and "agentId" in data and data["agentId"] is None:
            data = {k: v for k, v in data.items() if k != "agentId"}
        return data


class AgentExecutionUpdate(RequestModel):
    status: (
        Annotated[
            ExecutionStatus,
            Among(ExecutionStatus.PAUSED, ExecutionStatus.RUNNING, ExecutionStatus.CANCELLED),
        ]
        | None
    ) = Field(default=None, description="pause a running execution, resume a paused one, or cancel")


class MemoryStateSort(StrEnum):
    version = "version"
    created_at = "createdAt"


class MemoryStatePublic(ResponseModel):
    agent_execution_memory_state_id: str
    agent_execution_id: str
    state: dict[str, Any]
    version: int
    created_at: Timestamp
    updated_at: Timestamp


class LiveTailExecution(ResponseModel):
    agent_execution_id: str
    status: ExecutionStatus
    current_step: int | None
    created_at: Timestamp
    updated_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None


class LiveTail(ResponseModel):
    execution: LiveTailExecution
    latest_memory_state: MemoryStatePublic | None
    steps: list[dict[str, Any]] = Field(description="the steps of the latest memory state")
    total_versions: int
