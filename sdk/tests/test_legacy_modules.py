"""Every public module of moderatelyai-sdk 0.2.7 imports from this SDK with the names it had.

The list below was taken from the published 0.2.7 wheel (its modules and the classes each
defines, plus ``__all__`` where it has one; the client modules also re-exported the resource
classes). Its private modules (``_base_client_async``, ``models._base``, ``models._shared``,
``resources._base``, ...) are implementation details and are not provided.
"""

import importlib
import inspect
from typing import Dict, List

import pytest

MODULES_0_2_7: Dict[str, List[str]] = {
    "moderatelyai_sdk": [
        "APIError",
        "APIResponse",
        "AsyncModeratelyAI",
        "AsyncSchemaBuilder",
        "AuthenticationError",
        "ConflictError",
        "DatasetAsyncModel",
        "DatasetDataVersionAsyncModel",
        "DatasetDataVersionModel",
        "DatasetModel",
        "DatasetSchemaVersionAsyncModel",
        "DatasetSchemaVersionModel",
        "FileAsyncModel",
        "FileModel",
        "ModeratelyAI",
        "ModeratelyAIError",
        "NotFoundError",
        "Pipeline",
        "PipelineAsyncModel",
        "PipelineConfigurationVersion",
        "PipelineConfigurationVersionAsyncModel",
        "PipelineExecution",
        "PipelineExecutionAsyncModel",
        "RateLimitError",
        "RetryConfig",
        "SchemaBuilder",
        "TimeoutError",
        "UnprocessableEntityError",
        "UserAsyncModel",
        "UserModel",
        "ValidationError",
    ],
    "moderatelyai_sdk.client": [
        "AgentExecutions",
        "Agents",
        "BaseClient",
        "Datasets",
        "Files",
        "ModeratelyAI",
        "PipelineConfigurationVersions",
        "PipelineExecutions",
        "Pipelines",
        "RetryConfig",
        "Teams",
        "Users",
    ],
    "moderatelyai_sdk.client_async": [
        "AsyncAgentExecutions",
        "AsyncAgents",
        "AsyncBaseClient",
        "AsyncDatasets",
        "AsyncFiles",
        "AsyncModeratelyAI",
        "AsyncPipelineConfigurationVersions",
        "AsyncPipelineExecutions",
        "AsyncPipelines",
        "AsyncTeams",
        "AsyncUsers",
    ],
    "moderatelyai_sdk.exceptions": [
        "APIError",
        "AuthenticationError",
        "ConflictError",
        "ModeratelyAIError",
        "NotFoundError",
        "RateLimitError",
        "TimeoutError",
        "UnprocessableEntityError",
        "ValidationError",
    ],
    "moderatelyai_sdk.models": [
        "DatasetDataVersionModel",
        "DatasetModel",
        "DatasetSchemaVersionModel",
        "FileAsyncModel",
        "FileModel",
        "PipelineAsyncModel",
        "PipelineConfigurationVersionAsyncModel",
        "PipelineConfigurationVersionModel",
        "PipelineExecutionAsyncModel",
        "PipelineExecutionModel",
        "PipelineModel",
        "SchemaBuilder",
        "UserAsyncModel",
        "UserModel",
    ],
    "moderatelyai_sdk.models.dataset": ["DatasetDataVersionModel", "DatasetModel"],
    "moderatelyai_sdk.models.dataset_async": ["DatasetAsyncModel", "DatasetDataVersionAsyncModel"],
    "moderatelyai_sdk.models.dataset_schema_version": [
        "DatasetSchemaVersionModel",
        "SchemaBuilder",
    ],
    "moderatelyai_sdk.models.dataset_schema_version_async": [
        "AsyncSchemaBuilder",
        "DatasetSchemaVersionAsyncModel",
    ],
    "moderatelyai_sdk.models.file": ["FileModel"],
    "moderatelyai_sdk.models.file_async": ["FileAsyncModel"],
    "moderatelyai_sdk.models.pipeline": ["PipelineModel"],
    "moderatelyai_sdk.models.pipeline_async": ["PipelineAsyncModel"],
    "moderatelyai_sdk.models.pipeline_configuration_version": ["PipelineConfigurationVersionModel"],
    "moderatelyai_sdk.models.pipeline_configuration_version_async": [
        "PipelineConfigurationVersionAsyncModel"
    ],
    "moderatelyai_sdk.models.pipeline_execution": ["PipelineExecutionModel"],
    "moderatelyai_sdk.models.pipeline_execution_async": ["PipelineExecutionAsyncModel"],
    "moderatelyai_sdk.models.user": ["UserModel"],
    "moderatelyai_sdk.models.user_async": ["UserAsyncModel"],
    "moderatelyai_sdk.resources": [
        "AgentExecutions",
        "Agents",
        "Datasets",
        "Files",
        "PipelineConfigurationVersions",
        "PipelineExecutions",
        "Pipelines",
        "Teams",
        "Users",
    ],
    "moderatelyai_sdk.resources.agent_executions": ["AgentExecutions"],
    "moderatelyai_sdk.resources.agents": ["Agents"],
    "moderatelyai_sdk.resources.dataset_schema_versions": ["DatasetSchemaVersions"],
    "moderatelyai_sdk.resources.datasets": ["Datasets"],
    "moderatelyai_sdk.resources.files": ["Files"],
    "moderatelyai_sdk.resources.pipeline_configuration_versions": ["PipelineConfigurationVersions"],
    "moderatelyai_sdk.resources.pipeline_executions": ["PipelineExecutions"],
    "moderatelyai_sdk.resources.pipelines": ["Pipelines"],
    "moderatelyai_sdk.resources.teams": ["Teams"],
    "moderatelyai_sdk.resources.users": ["Users"],
    "moderatelyai_sdk.resources_async": [
        "AsyncAgentExecutions",
        "AsyncAgents",
        "AsyncDatasetSchemaVersions",
        "AsyncDatasets",
        "AsyncFiles",
        "AsyncPipelineConfigurationVersions",
        "AsyncPipelineExecutions",
        "AsyncPipelines",
        "AsyncTeams",
        "AsyncUsers",
    ],
    "moderatelyai_sdk.resources_async.agent_executions": ["AsyncAgentExecutions"],
    "moderatelyai_sdk.resources_async.agents": ["AsyncAgents"],
    "moderatelyai_sdk.resources_async.dataset_schema_versions": ["AsyncDatasetSchemaVersions"],
    "moderatelyai_sdk.resources_async.datasets": ["AsyncDatasets"],
    "moderatelyai_sdk.resources_async.files": ["AsyncFiles"],
    "moderatelyai_sdk.resources_async.pipeline_configuration_versions": [
        "AsyncPipelineConfigurationVersions"
    ],
    "moderatelyai_sdk.resources_async.pipeline_executions": ["AsyncPipelineExecutions"],
    "moderatelyai_sdk.resources_async.pipelines": ["AsyncPipelines"],
    "moderatelyai_sdk.resources_async.teams": ["AsyncTeams"],
    "moderatelyai_sdk.resources_async.users": ["AsyncUsers"],
    "moderatelyai_sdk.types": [
        "APIError",
        "APIResponse",
        "Agent",
        "AgentExecution",
        "Dataset",
        "ErrorDetail",
        "File",
        "HTTPMethod",
        "JSONValue",
        "PaginatedResponse",
        "PaginationInfo",
        "Pipeline",
        "PipelineConfigurationVersion",
        "PipelineExecution",
        "Team",
        "User",
    ],
}
# Names whose 0.2.7 object was a class; the typing aliases of ``types`` are not.
ALIASES = {"HTTPMethod", "JSONValue"}
CASES = [(module, name) for module, names in MODULES_0_2_7.items() for name in names]


@pytest.mark.parametrize(("module_name", "name"), CASES, ids=lambda v: v)
def test_name_imports_from_its_0_2_7_module(module_name: str, name: str) -> None:
    value = getattr(importlib.import_module(module_name), name)
    if name in ALIASES:
        return
    assert inspect.isclass(value)
    assert value.__module__.startswith("moderatelyai_sdk."), "our own class, re-exported"


@pytest.mark.parametrize("module_name", list(MODULES_0_2_7))
def test_module_lists_the_names_in_all(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert set(MODULES_0_2_7[module_name]) <= set(module.__all__)


def test_paths_lead_to_the_same_classes() -> None:
    from moderatelyai_sdk import ModeratelyAI, models
    from moderatelyai_sdk.client import ModeratelyAI as Legacy
    from moderatelyai_sdk.models.pipeline_execution_async import PipelineExecutionAsyncModel
    from moderatelyai_sdk.resources import agent_executions

    assert Legacy is ModeratelyAI
    assert PipelineExecutionAsyncModel is models.PipelineExecutionAsyncModel
    assert agent_executions.AgentExecutions is type(
        ModeratelyAI(api_key="k", team_id="t").agent_executions
    )
