"""The sync and async surfaces must not drift: same methods, same parameters, same defaults."""

import inspect
from typing import Any, Callable, Dict, List, Tuple

import pytest

from moderatelyai_sdk import AsyncModeratelyAI, AsyncPage, ModeratelyAI, Page
from moderatelyai_sdk.models import (
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
from moderatelyai_sdk.resources.agent_configuration_versions import AgentConfigurationVersions
from moderatelyai_sdk.resources.agent_executions import AgentExecutions
from moderatelyai_sdk.resources.agents import Agents
from moderatelyai_sdk.resources.audit_logs import AuditLogs
from moderatelyai_sdk.resources.dataset_data_versions import DatasetDataVersions
from moderatelyai_sdk.resources.dataset_schema_versions import DatasetSchemaVersions
from moderatelyai_sdk.resources.datasets import Datasets
from moderatelyai_sdk.resources.files import Files
from moderatelyai_sdk.resources.pipeline_configuration_versions import (
    PipelineConfigurationVersions,
)
from moderatelyai_sdk.resources.pipeline_executions import PipelineExecutions
from moderatelyai_sdk.resources.pipelines import Pipelines
from moderatelyai_sdk.resources.teams import Teams
from moderatelyai_sdk.resources.users import Users
from moderatelyai_sdk.resources_async.agent_configuration_versions import (
    AsyncAgentConfigurationVersions,
)
from moderatelyai_sdk.resources_async.agent_executions import AsyncAgentExecutions
from moderatelyai_sdk.resources_async.agents import AsyncAgents
from moderatelyai_sdk.resources_async.audit_logs import AsyncAuditLogs
from moderatelyai_sdk.resources_async.dataset_data_versions import AsyncDatasetDataVersions
from moderatelyai_sdk.resources_async.dataset_schema_versions import AsyncDatasetSchemaVersions
from moderatelyai_sdk.resources_async.datasets import AsyncDatasets
from moderatelyai_sdk.resources_async.files import AsyncFiles
from moderatelyai_sdk.resources_async.pipeline_configuration_versions import (
    AsyncPipelineConfigurationVersions,
)
from moderatelyai_sdk.resources_async.pipeline_executions import AsyncPipelineExecutions
from moderatelyai_sdk.resources_async.pipelines import AsyncPipelines
from moderatelyai_sdk.resources_async.teams import AsyncTeams
from moderatelyai_sdk.resources_async.users import AsyncUsers

PAIRS = [
    (ModeratelyAI, AsyncModeratelyAI),
    (Users, AsyncUsers),
    (Teams, AsyncTeams),
    (Agents, AsyncAgents),
    (Files, AsyncFiles),
    (Datasets, AsyncDatasets),
    (Pipelines, AsyncPipelines),
    (PipelineConfigurationVersions, AsyncPipelineConfigurationVersions),
    (PipelineExecutions, AsyncPipelineExecutions),
    (AgentExecutions, AsyncAgentExecutions),
    (AgentConfigurationVersions, AsyncAgentConfigurationVersions),
    (DatasetSchemaVersions, AsyncDatasetSchemaVersions),
    (AuditLogs, AsyncAuditLogs),
    (DatasetDataVersions, AsyncDatasetDataVersions),
    (UserModel, UserAsyncModel),
    (FileModel, FileAsyncModel),
    (DatasetModel, DatasetAsyncModel),
    (DatasetDataVersionModel, DatasetDataVersionAsyncModel),
    (DatasetSchemaVersionModel, DatasetSchemaVersionAsyncModel),
    (SchemaBuilder, AsyncSchemaBuilder),
    (PipelineModel, PipelineAsyncModel),
    (PipelineConfigurationVersionModel, PipelineConfigurationVersionAsyncModel),
    (PipelineExecutionModel, PipelineExecutionAsyncModel),
    (Page, AsyncPage),
]
RESOURCES = PAIRS[1:14]
# Protocol methods that are renamed, not copied, on the async side.
DUNDER_TWINS = {"__enter__": "__aenter__", "__exit__": "__aexit__", "__init__": "__init__"}


def public_methods(cls: type) -> Dict[str, Callable[..., Any]]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, callable)
        # Python-level functions only: builtins (dict methods of a page) have no signature.
        if not name.startswith("_") and (inspect.isfunction(member) or inspect.ismethod(member))
    }


def shape(function: Callable[..., Any]) -> List[Tuple[str, Any, Any]]:
    """Parameter names, kinds and defaults; annotations differ by design (Async* types)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def is_async(function: Callable[..., Any]) -> bool:
    # A paginated list (``_io_async.paginated``) returns an awaitable, async-iterable paginator
    # made from the coroutine function it wraps.
    wrapped = getattr(function, "__wrapped__", None)
    if wrapped is not None and is_async(wrapped):
        return True
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda c: c.__name__)
def test_same_public_methods(sync_cls: type, async_cls: type) -> None:
    assert sorted(public_methods(sync_cls)) == sorted(public_methods(async_cls))


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda c: c.__name__)
def test_same_signatures(sync_cls: type, async_cls: type) -> None:
    sync_methods, async_methods = public_methods(sync_cls), public_methods(async_cls)
    for name, sync_method in sync_methods.items():
        async_method = async_methods[name]
        assert shape(sync_method) == shape(async_method), f"{sync_cls.__name__}.{name}"
        assert not is_async(sync_method), f"{sync_cls.__name__}.{name} must be sync"
    for sync_name, async_name in DUNDER_TWINS.items():
        if sync_name in vars(sync_cls) or async_name in vars(async_cls):
            sync_method = getattr(sync_cls, sync_name)
            async_method = getattr(async_cls, async_name)
            assert shape(sync_method) == shape(async_method), f"{sync_cls.__name__}.{sync_name}"


@pytest.mark.parametrize(("sync_cls", "async_cls"), RESOURCES, ids=lambda c: c.__name__)
def test_resource_calls_are_coroutines_on_the_async_side(sync_cls: type, async_cls: type) -> None:
    for name, method in public_methods(async_cls).items():
        assert is_async(method), f"{async_cls.__name__}.{name} must be async"


def test_clients_expose_the_same_resources() -> None:
    kwargs = {"api_key": "k", "team_id": "t"}
    sync_client, async_client = ModeratelyAI(**kwargs), AsyncModeratelyAI(**kwargs)
    names = {
        "users",
        "teams",
        "agents",
        "files",
        "datasets",
        "pipelines",
        "pipeline_configuration_versions",
        "pipeline_executions",
        "agent_executions",
        "agent_configuration_versions",
        "dataset_schema_versions",
        "audit_logs",
    }
    for name in names:
        sync_resource, async_resource = getattr(sync_client, name), getattr(async_client, name)
        assert type(async_resource).__name__ == "Async" + type(sync_resource).__name__
    assert {n for n in vars(sync_client) if not n.startswith("_")} == {
        n for n in vars(async_client) if not n.startswith("_")
    }
    sync_client.close()


# Methods that make no request stay plain functions on the async side too.
LOCAL_METHODS = {
    DatasetAsyncModel: {"schema_builder"},
    DatasetDataVersionAsyncModel: set(),
    DatasetSchemaVersionAsyncModel: {"get_column"},
    AsyncSchemaBuilder: {"add_column", "with_parsing", "as_draft", "as_current"},
    PipelineAsyncModel: set(),
    PipelineConfigurationVersionAsyncModel: set(),
    PipelineExecutionAsyncModel: set(),
}


@pytest.mark.parametrize("cls", list(LOCAL_METHODS), ids=lambda c: c.__name__)
def test_model_calls_are_coroutines(cls: type) -> None:
    for name, method in public_methods(cls).items():
        defined_here = any(name in vars(klass) for klass in cls.__mro__[:2])
        if defined_here and name not in {"to_dict", "keys", "get"}:
            assert is_async(method) == (name not in LOCAL_METHODS[cls]), f"{cls.__name__}.{name}"
