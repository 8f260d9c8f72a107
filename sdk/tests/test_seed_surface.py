"""Parameter lists of the seed reference (names, order, kinds and defaults), both clients.

Every method also takes the request options (``timeout=``, ``extra_headers=``, ...: see
``moderatelyai_sdk.RequestOptions``); a method without ``**kwargs`` of API fields takes them as a
trailing ``**options``, which the seed comparison leaves out.
"""

import inspect
from typing import Any, Callable, List

import pytest

from moderatelyai_sdk import AsyncModeratelyAI, ModeratelyAI
from moderatelyai_sdk._async._resource import AsyncBaseResource
from moderatelyai_sdk._sync._resource import BaseResource
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
from moderatelyai_sdk.resources import (
    AgentConfigurationVersions,
    AgentExecutions,
    Agents,
    AuditLogs,
    DatasetDataVersions,
    Datasets,
    DatasetSchemaVersions,
    Files,
    PipelineConfigurationVersions,
    PipelineExecutions,
    Pipelines,
    Teams,
    Users,
)
from moderatelyai_sdk.resources_async import (
    AsyncAgentConfigurationVersions,
    AsyncAgentExecutions,
    AsyncAgents,
    AsyncAuditLogs,
    AsyncDatasetDataVersions,
    AsyncDatasets,
    AsyncDatasetSchemaVersions,
    AsyncFiles,
    AsyncPipelineConfigurationVersions,
    AsyncPipelineExecutions,
    AsyncPipelines,
    AsyncTeams,
    AsyncUsers,
)

PAGING = "(*, page=1, page_size=10, order_by='created_at', order_direction='desc')"
SEED = {
    (Users, AsyncUsers): {
        "list": PAGING,
        "retrieve": "(user_id)",
        "update": "(user_id, *, full_name, **kwargs)",
    },
    (Teams, AsyncTeams): {
        "list": PAGING,
        "retrieve": "(team_id)",
        "create": "(*, name, description=None, **kwargs)",
        "update": "(team_id, *, name=None, description=None, **kwargs)",
        "delete": "(team_id)",
    },
    (Agents, AsyncAgents): {
        "list": PAGING,
        "retrieve": "(agent_id)",
        "create": "(*, name, description=None, **kwargs)",
        "update": "(agent_id, *, name=None, description=None, **kwargs)",
        "delete": "(agent_id)",
    },
    # The seed's five methods (both clients), then additions: delete, the live tail and memory
    # states.
    (AgentExecutions, AsyncAgentExecutions): {
        "list": "(*, agent_id=None, status=None, page=1, page_size=10, order_by='created_at', "
        "order_direction='desc')",
        "retrieve": "(execution_id)",
        "create": "(*, agent_id, input_data=None, **kwargs)",
        "cancel": "(execution_id)",
        "wait_for_completion": "(execution_id, *, timeout=None, poll_interval=2.0)",
        "delete": "(execution_id)",
        "tail": "(execution_id, *, poll_interval=1.0, timeout=None)",
        "live_tail": "(execution_id)",
        "list_memory_states": "(execution_id, *, page=1, page_size=10, order_by='version', "
        "order_direction='asc', version=None, latest=None)",
        "retrieve_memory_state": "(execution_id, version)",
    },
    # Not in the seed: the wire's endpoints with the SDK's usual defaults.
    (AgentConfigurationVersions, AsyncAgentConfigurationVersions): {
        "list": "(*, agent_ids=None, agent_configuration_version_ids=None, version_numbers=None, "
        "is_current=None)",
        "retrieve": "(agent_configuration_version_id)",
        "create": "(*, agent_id, instructions, input_schema=None, output_schema=None, "
        "version_number=None, is_current=True, system_prompt=None, llm_config=None, "
        "tool_config=None, execution_config=None, **kwargs)",
        "update": "(agent_configuration_version_id, *, instructions=None, input_schema=None, "
        "output_schema=None, is_current=None, system_prompt=None, llm_config=None, "
        "tool_config=None, execution_config=None, **kwargs)",
    },
    # 0.2.7's resource of the same name (not in the seed).
    (DatasetSchemaVersions, AsyncDatasetSchemaVersions): {
        "list": "(*, dataset_ids=None, dataset_schema_version_ids=None, status=None, "
        "version_no=None, page=1, page_size=10, order_by='createdAt', order_direction='desc')",
        "retrieve": "(schema_version_id)",
        "create": "(*, dataset_id, columns, status='draft', parsing_options=None, **kwargs)",
        "update": "(schema_version_id, *, status=None, columns=None, parsing_options=None, "
        "**kwargs)",
    },
    # The seed's parameters, plus keyword-only additions: ``progress=None`` on the transfers,
    # ``file_hash=None`` on get_upload_url and on download (the SHA-256 to check against when the
    # server's answer does not say it).
    (Files, AsyncFiles): {
        "list": "(*, dataset_id=None, status=None, mime_type=None, file_hashes=None, page=1, "
        "page_size=10, order_by='created_at', order_direction='desc')",
        "retrieve": "(file_id)",
        "upload": "(file=None, *, name=None, metadata=None, progress=None, **kwargs)",
        "download": "(file_id, *, path=None, progress=None, file_hash=None)",
        "update": "(file_id, *, name=None, dataset_id=None, metadata=None, **kwargs)",
        "delete": "(file_id)",
        "get_upload_url": "(*, filename, file_size, mime_type=None, dataset_id=None, "
        "file_hash=None, **kwargs)",
    },
    (Datasets, AsyncDatasets): {
        "list": "(*, dataset_ids=None, name_like=None, name=None, page=1, page_size=10, "
        "order_by='createdAt', order_direction='desc')",
        "retrieve": "(dataset_id)",
        "create": "(*, name, description=None, **kwargs)",
        "update": "(dataset_id, *, name=None, description=None, should_process=None, **kwargs)",
        "delete": "(dataset_id)",
    },
    # The models follow 0.2.7, plus keyword-only additions: ``progress=None``
    # on the transfers, ``parsing_options=None`` on create_schema_from_sample.
    (DatasetModel, DatasetAsyncModel): {
        "upload_data": "(file, *, file_type=None, status='current', progress=None, **kwargs)",
        "download_data": "(*, version_id=None, path=None, progress=None)",
        "list_data_versions": "(*, page=1, page_size=10, status=None)",
        "get_data_version": "(version_id)",
        "update": "(*, name=None, description=None, should_process=None, **kwargs)",
        "delete": "()",
        "refresh": "()",
        "create_schema": "(columns, *, status='draft', parsing_options=None)",
        "create_schema_from_sample": "(sample_file, *, status='draft', header_row=1, "
        "sample_size=100, parsing_options=None)",
        "schema_builder": "()",
        "list_schema_versions": "(*, status=None, page=1, page_size=10)",
        "get_current_schema": "()",
        "get_schema_version": "(schema_version_id)",
        "process": "(*, wait=True, timeout=300.0, poll_interval=2.0)",
        "wait_for_processing": "(*, timeout=300.0, poll_interval=2.0)",
        "to_pandas": "(*, version_id=None, **kwargs)",
        "to_polars": "(*, version_id=None, **kwargs)",
    },
    (DatasetDataVersionModel, DatasetDataVersionAsyncModel): {
        "download": "(*, path=None, progress=None)",
        "refresh": "()",
    },
    (DatasetSchemaVersionModel, DatasetSchemaVersionAsyncModel): {
        "activate": "()",
        "archive": "()",
        "update": "(*, status=None, columns=None, parsing_options=None)",
        "add_column": "(name, column_type, *, required=True, description=None, position=None, "
        "**kwargs)",
        "remove_column": "(name)",
        "get_column": "(name)",
        "refresh": "()",
    },
    (SchemaBuilder, AsyncSchemaBuilder): {
        "__init__": "(dataset_id, client)",
        "add_column": "(name, column_type, *, required=True, description=None, operations=None, "
        "**kwargs)",
        "with_parsing": "(*, skip_rows=None, header_row=None, delimiter=None, encoding=None)",
        "as_draft": "()",
        "as_current": "()",
        "create": "()",
    },
    (FileModel, FileAsyncModel): {
        "download": "(*, path=None, progress=None)",
        "delete": "()",
        "refresh": "()",
        "is_ready": "()",
        "is_processing": "()",
        "has_error": "()",
        "is_image": "()",
        "is_document": "()",
        "is_text": "()",
        "is_csv": "()",
        "get_extension": "()",
    },
    (UserModel, UserAsyncModel): {
        "display_name": "()",
        "has_nickname": "()",
        "formatted_created_at": "(format_str='%Y-%m-%d %H:%M:%S')",
        "is_recent": "(days=7)",
        "update_profile": "(*, full_name=None, nickname=None, **kwargs)",
        "get_teams": "()",
        "refresh": "()",
    },
    (Pipelines, AsyncPipelines): {
        "list": "(*, pipeline_ids=None, name_like=None, page=1, page_size=10, order_by=None, "
        "order_direction='asc')",
        "retrieve": "(pipeline_id)",
        "create": "(*, name, description=None, **kwargs)",
        "update": "(pipeline_id, *, name=None, description=None, **kwargs)",
        "delete": "(pipeline_id)",
    },
    # validate takes the configuration positionally or by keyword (0.2.7 code does both).
    (PipelineConfigurationVersions, AsyncPipelineConfigurationVersions): {
        "list": "(*, pipeline_ids=None, pipeline_configuration_version_ids=None, page=1, "
        "page_size=10, order_by=None, order_direction='asc')",
        "retrieve": "(pipeline_configuration_version_id)",
        "create": "(*, pipeline_id, configuration, **kwargs)",
        "update": "(pipeline_configuration_version_id, *, configuration=None, **kwargs)",
        "delete": "(pipeline_configuration_version_id)",
        "clone": "(pipeline_configuration_version_id)",
        "validate": "(configuration)",
        "get_schema": "()",
    },
    (PipelineExecutions, AsyncPipelineExecutions): {
        "list": "(*, pipeline_ids=None, pipeline_configuration_version_ids=None, "
        "pipeline_execution_ids=None, status=None, statuses=None, page=1, page_size=10, "
        "order_by=None, order_direction='asc')",
        "retrieve": "(pipeline_execution_id)",
        "create": "(*, pipeline_configuration_version_id, pipeline_input, pipeline_input_summary, "
        "current_step=None, total_steps=None, **kwargs)",
        "update": "(pipeline_execution_id, *, pipeline_output=None, pipeline_output_summary=None, "
        "status=None, progress_data=None, current_step=None, total_steps=None, started_at=None, "
        "completed_at=None, failed_at=None, cancelled_at=None, paused_at=None, **kwargs)",
        "cancel": "(pipeline_execution_id, *, reason=None)",
        "get_output": "(pipeline_execution_id)",
    },
    # The models follow 0.2.7 with ``on_progress=`` in place of printing.
    (PipelineModel, PipelineAsyncModel): {
        "execute": "(*, configuration_version_id=None, pipeline_input, "
        "pipeline_input_summary=None, block=False, timeout=None, poll_interval=2.0, "
        "on_progress=None, **kwargs)",
        "list_executions": "(*, status=None, statuses=None, page=1, page_size=10)",
        "get_latest_execution": "()",
        "create_configuration_version": "(*, configuration, **kwargs)",
        "update": "(*, name=None, description=None, **kwargs)",
        "delete": "()",
    },
    (PipelineConfigurationVersionModel, PipelineConfigurationVersionAsyncModel): {
        "execute": "(*, pipeline_input, pipeline_input_summary=None, block=False, timeout=None, "
        "poll_interval=2.0, on_progress=None, **kwargs)",
        "list_executions": "(*, status=None, statuses=None, page=1, page_size=10)",
        "update": "(*, configuration=None, **kwargs)",
        "delete": "()",
        "clone": "()",
        "validate": "()",
        "get_pipeline": "()",
        "get_latest_execution": "()",
    },
    (PipelineExecutionModel, PipelineExecutionAsyncModel): {
        "refresh": "()",
        "cancel": "(*, reason=None)",
        "get_output": "()",
        "wait_for_completion": "(*, timeout=None, poll_interval=2.0, on_progress=None)",
    },
    (ModeratelyAI, AsyncModeratelyAI): {
        "__init__": "(*, team_id=None, api_key=None, base_url=None, timeout=None, max_retries=3, "
        "retry_config=None, default_headers=None, default_query=None, http_client=None)",
        "close": "()",
    },
}
CASES = [
    (cls, name, text)
    for pair, methods in SEED.items()
    for cls in pair
    for name, text in methods.items()
]


def bare(function: Callable[..., Any]) -> str:
    """``(user_id, *, full_name, **kwargs)``: the signature without self, annotations and the
    trailing ``**options`` (the request options)."""
    params = list(inspect.signature(function).parameters.values())[1:]
    if params and params[-1].kind is inspect.Parameter.VAR_KEYWORD and params[-1].name == "options":
        params.pop()
    return str(inspect.Signature([p.replace(annotation=inspect.Parameter.empty) for p in params]))


@pytest.mark.parametrize(
    ("cls", "name", "expected"), CASES, ids=lambda v: getattr(v, "__name__", "")
)
def test_seed_signature(cls: type, name: str, expected: str) -> None:
    assert bare(getattr(cls, name)) == expected


# Every public call that makes a request says which (these make none).
NO_REQUEST = {"schema_builder", "get_column"}
BUILDER_STEPS = {"add_column", "with_parsing", "as_draft", "as_current"}
DOCUMENTED = [
    Users,
    AsyncUsers,
    Teams,
    AsyncTeams,
    Agents,
    AsyncAgents,
    AgentExecutions,
    AsyncAgentExecutions,
    AgentConfigurationVersions,
    AsyncAgentConfigurationVersions,
    DatasetSchemaVersions,
    AsyncDatasetSchemaVersions,
    DatasetDataVersions,
    AsyncDatasetDataVersions,
    AuditLogs,
    AsyncAuditLogs,
    Files,
    AsyncFiles,
    Datasets,
    AsyncDatasets,
    DatasetModel,
    DatasetAsyncModel,
    DatasetDataVersionModel,
    DatasetDataVersionAsyncModel,
    DatasetSchemaVersionModel,
    DatasetSchemaVersionAsyncModel,
    SchemaBuilder,
    AsyncSchemaBuilder,
    Pipelines,
    AsyncPipelines,
    PipelineConfigurationVersions,
    AsyncPipelineConfigurationVersions,
    PipelineExecutions,
    AsyncPipelineExecutions,
    PipelineModel,
    PipelineAsyncModel,
    PipelineConfigurationVersionModel,
    PipelineConfigurationVersionAsyncModel,
    PipelineExecutionModel,
    PipelineExecutionAsyncModel,
]


@pytest.mark.parametrize("cls", DOCUMENTED, ids=lambda c: c.__name__)
def test_every_public_method_documents_its_wire_call(cls: type) -> None:
    local = NO_REQUEST | (BUILDER_STEPS if cls in (SchemaBuilder, AsyncSchemaBuilder) else set())
    for name, method in inspect.getmembers(cls, inspect.isfunction):
        own = any(name in vars(klass) for klass in cls.__mro__[:2])
        if name.startswith("_") or not own or name in local:
            continue
        assert method.__doc__ and "Wire: ``" in method.__doc__, f"{cls.__name__}.{name}"


def _resource_classes(base: type) -> List[type]:
    found: List[type] = []
    for sub in base.__subclasses__():
        found += [sub, *_resource_classes(sub)]
    return found


RESOURCES = _resource_classes(AsyncBaseResource) + _resource_classes(BaseResource)


def test_every_resource_is_checked() -> None:
    assert {Users, AsyncUsers, PipelineExecutions, AsyncAuditLogs} <= set(RESOURCES)
    assert len(RESOURCES) >= 24


@pytest.mark.parametrize("cls", RESOURCES, ids=lambda c: c.__name__)
def test_every_resource_method_takes_the_request_options(cls: type) -> None:
    """A trailing ``**options`` (the request options) or ``**kwargs`` (API fields, from which
    the options are taken out) on every public method."""
    checked = []
    for name, method in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_"):
            continue
        last = list(inspect.signature(method).parameters.values())[-1]
        assert last.kind is inspect.Parameter.VAR_KEYWORD, f"{cls.__name__}.{name}"
        assert last.name in ("options", "kwargs"), f"{cls.__name__}.{name}"
        checked.append(name)
    assert "retrieve" in checked or "list" in checked, cls.__name__
