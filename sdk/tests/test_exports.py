"""The public surface: ``__all__`` matches what the packages expose, and the seed's paths import."""

import importlib
import inspect

import pytest

import moderatelyai_sdk

PUBLIC_MODULES = [
    "moderatelyai_sdk",
    "moderatelyai_sdk.exceptions",
    "moderatelyai_sdk.models",
    "moderatelyai_sdk.pagination",
    "moderatelyai_sdk.resources",
    "moderatelyai_sdk.resources_async",
    "moderatelyai_sdk.types",
]

# Every class path of the seed reference that this release covers.
SEED_PATHS = [
    "moderatelyai_sdk.ModeratelyAI",
    "moderatelyai_sdk.AsyncModeratelyAI",
    "moderatelyai_sdk.resources.users.Users",
    "moderatelyai_sdk.resources.teams.Teams",
    "moderatelyai_sdk.resources.agents.Agents",
    "moderatelyai_sdk.resources_async.users.AsyncUsers",
    "moderatelyai_sdk.resources_async.teams.AsyncTeams",
    "moderatelyai_sdk.resources_async.agents.AsyncAgents",
    "moderatelyai_sdk.resources.files.Files",
    "moderatelyai_sdk.resources_async.files.AsyncFiles",
    "moderatelyai_sdk.models.FileModel",
    "moderatelyai_sdk.models.FileAsyncModel",
    "moderatelyai_sdk.FileModel",
    "moderatelyai_sdk.FileAsyncModel",
    "moderatelyai_sdk.File",
    "moderatelyai_sdk.models.UserModel",
    "moderatelyai_sdk.models.UserAsyncModel",
    "moderatelyai_sdk.UserModel",
    "moderatelyai_sdk.UserAsyncModel",
    "moderatelyai_sdk.RetryConfig",
    "moderatelyai_sdk.resources.datasets.Datasets",
    "moderatelyai_sdk.resources_async.datasets.AsyncDatasets",
    "moderatelyai_sdk.DatasetModel",
    "moderatelyai_sdk.DatasetAsyncModel",
    "moderatelyai_sdk.DatasetDataVersionModel",
    "moderatelyai_sdk.DatasetDataVersionAsyncModel",
    "moderatelyai_sdk.DatasetSchemaVersionModel",
    "moderatelyai_sdk.DatasetSchemaVersionAsyncModel",
    "moderatelyai_sdk.SchemaBuilder",
    "moderatelyai_sdk.AsyncSchemaBuilder",
    "moderatelyai_sdk.models.DatasetModel",
    "moderatelyai_sdk.models.DatasetAsyncModel",
    "moderatelyai_sdk.models.DatasetDataVersionModel",
    "moderatelyai_sdk.models.DatasetDataVersionAsyncModel",
    "moderatelyai_sdk.models.DatasetSchemaVersionModel",
    "moderatelyai_sdk.models.DatasetSchemaVersionAsyncModel",
    "moderatelyai_sdk.models.SchemaBuilder",
    "moderatelyai_sdk.models.AsyncSchemaBuilder",
    "moderatelyai_sdk.models.PipelineModel",
    "moderatelyai_sdk.PipelineModel",
    "moderatelyai_sdk.models.PipelineAsyncModel",
    "moderatelyai_sdk.PipelineAsyncModel",
    "moderatelyai_sdk.models.PipelineConfigurationVersionModel",
    "moderatelyai_sdk.PipelineConfigurationVersionModel",
    "moderatelyai_sdk.models.PipelineConfigurationVersionAsyncModel",
    "moderatelyai_sdk.PipelineConfigurationVersionAsyncModel",
    "moderatelyai_sdk.models.PipelineExecutionModel",
    "moderatelyai_sdk.PipelineExecutionModel",
    "moderatelyai_sdk.models.PipelineExecutionAsyncModel",
    "moderatelyai_sdk.PipelineExecutionAsyncModel",
    "moderatelyai_sdk.resources.pipelines.Pipelines",
    "moderatelyai_sdk.resources_async.pipelines.AsyncPipelines",
    "moderatelyai_sdk.resources.pipeline_configuration_versions.PipelineConfigurationVersions",
    "moderatelyai_sdk.resources_async.pipeline_configuration_versions.AsyncPipelineConfigurationVersions",
    "moderatelyai_sdk.resources.pipeline_executions.PipelineExecutions",
    "moderatelyai_sdk.resources_async.pipeline_executions.AsyncPipelineExecutions",
    "moderatelyai_sdk.resources.agent_executions.AgentExecutions",
    "moderatelyai_sdk.resources_async.agent_executions.AsyncAgentExecutions",
]
EXCEPTIONS = [
    "ModeratelyAIError",
    "APIError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "ExecutionNotCancellableError",
    "UnprocessableEntityError",
    "RateLimitError",
    "ValidationError",
    "ProcessingError",
    "PipelineExecutionError",
    "PipelineExecutionFailedError",
    "PipelineExecutionCancelledError",
    "AgentExecutionError",
    "AgentExecutionFailedError",
    "AgentExecutionCancelledError",
    "TimeoutError",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_exported_members(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    if "__version__" in module.__all__:
        exported.add("__version__")
    assert set(module.__all__) == exported
    assert len(module.__all__) == len(set(module.__all__))


@pytest.mark.parametrize("path", SEED_PATHS + [f"moderatelyai_sdk.{n}" for n in EXCEPTIONS])
def test_seed_paths_import(path: str) -> None:
    module_name, _, name = path.rpartition(".")
    assert inspect.isclass(getattr(importlib.import_module(module_name), name))


@pytest.mark.parametrize("name", EXCEPTIONS)
def test_exceptions_module_and_root_agree(name: str) -> None:
    from moderatelyai_sdk import exceptions

    assert getattr(exceptions, name) is getattr(moderatelyai_sdk, name)


def test_version_matches_distribution() -> None:
    from importlib.metadata import version

    assert moderatelyai_sdk.__version__ == version("moderatelyai-sdk")


def test_typed_marker_ships() -> None:
    from importlib.resources import files

    assert files("moderatelyai_sdk").joinpath("py.typed").is_file()
