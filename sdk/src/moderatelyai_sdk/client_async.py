"""The async client, with the resource classes, under its moderatelyai-sdk 0.2.7 module path."""

from ._async._client import AsyncBaseClient, AsyncModeratelyAI
from .resources_async import (
    AsyncAgentExecutions,
    AsyncAgents,
    AsyncDatasets,
    AsyncFiles,
    AsyncPipelineConfigurationVersions,
    AsyncPipelineExecutions,
    AsyncPipelines,
    AsyncTeams,
    AsyncUsers,
)

__all__ = [
    "AsyncModeratelyAI",
    "AsyncBaseClient",
    "AsyncAgentExecutions",
    "AsyncAgents",
    "AsyncDatasets",
    "AsyncFiles",
    "AsyncPipelineConfigurationVersions",
    "AsyncPipelineExecutions",
    "AsyncPipelines",
    "AsyncTeams",
    "AsyncUsers",
]
