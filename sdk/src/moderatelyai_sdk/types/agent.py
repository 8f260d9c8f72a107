from typing import Any, ClassVar, Dict, List, Optional, Union

from pydantic import Field

from .._models import BaseModel, Timestamp

__all__ = ["Agent", "AgentConfigurationVersion"]


class Agent(BaseModel):
    """An AI agent (wire: ``Agent``), including the run metrics the server reports."""

    agent_id: str
    team_id: Optional[str] = None
    name: str
    description: Optional[str] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    last_run_at: Optional[str] = None
    total_runs: Optional[Union[int, float]] = None
    successful_runs: Optional[Union[int, float]] = None
    success_rate: Optional[Union[int, float]] = None
    """Percentage (0-100) of successful runs."""

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")
    last_run_at_datetime: ClassVar[Timestamp] = Timestamp("last_run_at")


class AgentConfigurationVersion(BaseModel):
    """One numbered version of an agent's behaviour (wire: ``AgentConfigurationVersion``); an
    execution runs exactly one version. At most one version per agent is current."""

    agent_configuration_version_id: str
    agent_id: str
    instructions: str = ""
    """What the agent is asked to do (natural language)."""
    input_schema: Any = None
    """JSON Schema that each execution's ``agent_input`` must satisfy."""
    output_schema: Any = None
    """JSON Schema of the final answer (``agent_output``)."""
    version_number: Optional[int] = None
    is_current: bool = False
    system_prompt: Optional[str] = None
    llm_config: Dict[str, Any] = Field(default_factory=dict)
    """Roles ``thought_llm``, ``fact_extraction_llm``, ``planner_llm``, each ``{"provider",
    "model_tier", "model"?, "enable_reasoning"?, "model_config"?}``; missing roles use the
    server's defaults."""
    tool_config: List[Dict[str, Any]] = Field(default_factory=list)
    """Tools offered to the agent: ``[{"type": "<ToolName>", "config": {...}}]``."""
    execution_config: Dict[str, Any] = Field(default_factory=dict)
    """``max_actions``, ``planning_interval``, ``feedback_rounds``, ``timeout_minutes``."""
    created_at: Optional[str] = None
    updated_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")
