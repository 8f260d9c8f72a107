"""Sync resource classes, one module per resource (``moderatelyai_sdk.resources.users.Users``)."""

from .agent_configuration_versions import AgentConfigurationVersions
from .agent_executions import AgentExecutions
from .agents import Agents
from .audit_logs import AuditLogs
from .dataset_data_versions import DatasetDataVersions
from .dataset_schema_versions import DatasetSchemaVersions
from .datasets import Datasets
from .files import Files
from .pipeline_configuration_versions import PipelineConfigurationVersions
from .pipeline_executions import PipelineExecutions
from .pipelines import Pipelines
from .teams import Teams
from .users import Users

__all__ = [
    "Agents",
    "AuditLogs",
    "AgentConfigurationVersions",
    "AgentExecutions",
    "Datasets",
    "DatasetDataVersions",
    "DatasetSchemaVersions",
    "Files",
    "Teams",
    "Users",
    "PipelineConfigurationVersions",
    "PipelineExecutions",
    "Pipelines",
]
