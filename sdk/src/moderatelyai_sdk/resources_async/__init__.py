"""Async resource classes (``moderatelyai_sdk.resources_async.users.AsyncUsers``)."""

from .agent_configuration_versions import AsyncAgentConfigurationVersions
from .agent_executions import AsyncAgentExecutions
from .agents import AsyncAgents
from .audit_logs import AsyncAuditLogs
from .dataset_data_versions import AsyncDatasetDataVersions
from .dataset_schema_versions import AsyncDatasetSchemaVersions
from .datasets import AsyncDatasets
from .files import AsyncFiles
from .pipeline_configuration_versions import AsyncPipelineConfigurationVersions
from .pipeline_executions import AsyncPipelineExecutions
from .pipelines import AsyncPipelines
from .teams import AsyncTeams
from .users import AsyncUsers

__all__ = [
    "AsyncAgents",
    "AsyncAuditLogs",
    "AsyncAgentConfigurationVersions",
    "AsyncAgentExecutions",
    "AsyncDatasets",
    "AsyncDatasetDataVersions",
    "AsyncDatasetSchemaVersions",
    "AsyncFiles",
    "AsyncTeams",
    "AsyncUsers",
    "AsyncPipelineConfigurationVersions",
    "AsyncPipelineExecutions",
    "AsyncPipelines",
]
