"""Plain wire types (no I/O): what the API sends, as pydantic models with dict-style access."""

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
from .team import Team
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
    "User",
]
