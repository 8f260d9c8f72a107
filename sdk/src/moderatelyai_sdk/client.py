"""The sync client, with the resource classes, under its moderatelyai-sdk 0.2.7 module path."""

from ._base_client import RetryConfig
from ._sync._client import BaseClient, ModeratelyAI
from .resources import (
    AgentExecutions,
    Agents,
    Datasets,
    Files,
    PipelineConfigurationVersions,
    PipelineExecutions,
    Pipelines,
    Teams,
    Users,
)

__all__ = [
    "ModeratelyAI",
    "BaseClient",
    "RetryConfig",
    "AgentExecutions",
    "Agents",
    "Datasets",
    "Files",
    "PipelineConfigurationVersions",
    "PipelineExecutions",
    "Pipelines",
    "Teams",
    "Users",
]
