"""Typed sync and async Python client for the Moderately AI platform REST API.

Example::

    from moderatelyai_sdk import ModeratelyAI

    with ModeratelyAI() as client:  # MODERATELY_API_KEY, MODERATELY_TEAM_ID, MODERATELY_BASE_URL
        for agent in client.agents.list().auto_paging_iter():
            print(agent.name)
"""

from ._async._client import AsyncModeratelyAI
from ._async._response import AsyncRawResponse
from ._base_client import RequestOptions, RetryConfig
from ._exceptions import (
    AgentExecutionCancelledError,
    AgentExecutionError,
    AgentExecutionFailedError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    ExecutionNotCancellableError,
    ModeratelyAIError,
    NotFoundError,
    PermissionDeniedError,
    PipelineExecutionCancelledError,
    PipelineExecutionError,
    PipelineExecutionFailedError,
    ProcessingError,
    RateLimitError,
    TimeoutError,
    UnprocessableEntityError,
    ValidationError,
)
from ._io_async import AsyncPaginator
from ._sync._client import ModeratelyAI
from ._sync._response import RawResponse
from ._version import __version__
from .models import (
    AsyncSchemaBuilder,
    DatasetAsyncModel,
    DatasetDataVersionAsyncModel,
    DatasetDataVersionModel,
    DatasetModel,
    DatasetSchemaVersionAsyncModel,
    DatasetSchemaVersionModel,
    FileAsyncModel,
    FileModel,
    PipelineAsyncModel,
    PipelineConfigurationVersionAsyncModel,
    PipelineConfigurationVersionModel,
    PipelineExecutionAsyncModel,
    PipelineExecutionModel,
    PipelineModel,
    SchemaBuilder,
    UserAsyncModel,
    UserModel,
)
from .pagination import AsyncPage, Page
from .types import (
    Agent,
    AgentConfigurationVersion,
    AgentExecution,
    AgentLiveTail,
    AgentMemoryState,
    AgentStep,
    APIResponse,
    AuditLog,
    Dataset,
    DatasetDataVersion,
    DatasetSchemaVersion,
    File,
    PaginationInfo,
    ParsingOptions,
    Pipeline,
    PipelineConfigurationVersion,
    PipelineExecution,
    SchemaColumn,
    Team,
    User,
)

__all__ = [
    "__version__",
    # clients
    "ModeratelyAI",
    "AsyncModeratelyAI",
    "RetryConfig",
    "RequestOptions",
    # results
    "RawResponse",
    "AsyncRawResponse",
    "AsyncPaginator",
    "Page",
    "AsyncPage",
    "UserModel",
    "UserAsyncModel",
    "FileModel",
    "FileAsyncModel",
    "DatasetModel",
    "DatasetAsyncModel",
    "DatasetDataVersionModel",
    "DatasetDataVersionAsyncModel",
    "DatasetSchemaVersionModel",
    "DatasetSchemaVersionAsyncModel",
    "SchemaBuilder",
    "AsyncSchemaBuilder",
    "PipelineModel",
    "PipelineAsyncModel",
    "PipelineConfigurationVersionModel",
    "PipelineConfigurationVersionAsyncModel",
    "PipelineExecutionModel",
    "PipelineExecutionAsyncModel",
    "User",
    "Team",
    "APIResponse",
    "Agent",
    "AgentConfigurationVersion",
    "AgentExecution",
    "AgentLiveTail",
    "AgentMemoryState",
    "AgentStep",
    "AuditLog",
    "File",
    "Dataset",
    "DatasetDataVersion",
    "DatasetSchemaVersion",
    "SchemaColumn",
    "ParsingOptions",
    "PaginationInfo",
    "Pipeline",
    "PipelineConfigurationVersion",
    "PipelineExecution",
    # errors
    "ModeratelyAIError",
    "APIError",
    "ValidationError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "ExecutionNotCancellableError",
    "UnprocessableEntityError",
    "RateLimitError",
    "ProcessingError",
    "PipelineExecutionError",
    "PipelineExecutionFailedError",
    "PipelineExecutionCancelledError",
    "AgentExecutionError",
    "AgentExecutionFailedError",
    "AgentExecutionCancelledError",
    "TimeoutError",
    "APIConnectionError",
    "APITimeoutError",
]
