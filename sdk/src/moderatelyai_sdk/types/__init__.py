"""Plain wire types (no I/O): what the API sends, as pydantic models with dict-style access.

Timestamps stay the wire's strings (``created_at == "2025-08-22T20:14:27.504Z"``); each ``*_at``
field also reads as an aware UTC ``datetime`` through its ``*_at_datetime`` twin
(``agent.created_at_datetime``), ``None`` when the field is absent or unparsable.
"""

from .agent import Agent, AgentConfigurationVersion
from .agent_execution import (
    AgentExecution,
    AgentFinalAnswer,
    AgentLiveTail,
    AgentLiveTailExecution,
    AgentMemoryState,
    AgentStep,
    AgentThought,
)
from .audit_log import AuditLog
from .common import (
    APIError,
    APIResponse,
    ErrorDetail,
    HTTPMethod,
    JSONValue,
    PaginatedResponse,
)
from .dataset import (
    Dataset,
    DatasetDataVersion,
    DatasetSchemaVersion,
    ParsingOptions,
    SchemaColumn,
)
from .file import File
from .pagination import PaginationInfo
from .pipeline import Pipeline, PipelineConfigurationVersion, PipelineExecution
from .team import Team, TeamUser
from .user import User

__all__ = [
    "APIError",
    "APIResponse",
    "ErrorDetail",
    "HTTPMethod",
    "JSONValue",
    "PaginatedResponse",
    "Agent",
    "AgentConfigurationVersion",
    "AgentExecution",
    "AgentFinalAnswer",
    "AgentLiveTail",
    "AgentLiveTailExecution",
    "AgentMemoryState",
    "AgentStep",
    "AgentThought",
    "AuditLog",
    "Dataset",
    "DatasetDataVersion",
    "DatasetSchemaVersion",
    "File",
    "PaginationInfo",
    "ParsingOptions",
    "Pipeline",
    "PipelineConfigurationVersion",
    "PipelineExecution",
    "SchemaColumn",
    "Team",
    "TeamUser",
    "User",
]
