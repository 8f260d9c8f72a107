"""Every ``*_at`` wire timestamp stays its string and also reads as an aware UTC datetime through
its typed ``*_at_datetime`` twin (``moderatelyai_sdk._models.Timestamp``)."""

import inspect
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List, Tuple, Type

import pytest

from moderatelyai_sdk import AsyncModeratelyAI, types
from moderatelyai_sdk._models import BaseModel, Timestamp, parse_timestamp

# Bodies as the server sends them (camelCase, millisecond UTC stamps; see
# platform/src/moderately/timeutil.py format_timestamp), one per wire type with timestamps.
T0 = "2025-08-22T20:14:27.504Z"
T1 = "2025-08-22T20:15:03.020Z"
T2 = "2025-08-22T20:16:00.000Z"

WIRE: Dict[Type[BaseModel], Dict[str, Any]] = {
    types.Agent: {
        "agentId": "agent_1",
        "teamId": "team_1",
        "name": "Support",
        "description": None,
        "createdAt": T0,
        "updatedAt": T1,
        "lastRunAt": None,
        "totalRuns": 0,
        "successfulRuns": 0,
        "successRate": 0,
    },
    types.AgentConfigurationVersion: {
        "agentConfigurationVersionId": "acv_1",
        "agentId": "agent_1",
        "instructions": "Answer.",
        "inputSchema": {"type": "object"},
        "outputSchema": {"type": "object"},
        "versionNumber": 1,
        "isCurrent": True,
        "systemPrompt": None,
        "llmConfig": {},
        "toolConfig": [],
        "executionConfig": {"max_actions": 5},
        "createdAt": T0,
        "updatedAt": T0,
    },
    types.AgentExecution: {
        "agentExecutionId": "aex_1",
        "agentConfigurationVersionId": "acv_1",
        "agentId": "agent_1",
        "agentInput": {"q": "hi"},
        "agentInputSchema": None,
        "agentInputSummary": '{"q":"hi"}',
        "agentOutput": {"a": 1},
        "agentOutputSchema": None,
        "agentOutputSummary": '{"a":1}',
        "status": "completed",
        "thoughts": [{"text": "thinking", "createdAt": T1}],
        "maxActions": 5,
        "currentStep": 2,
        "planningInterval": None,
        "usage": None,
        "createdAt": T0,
        "updatedAt": T2,
        "startedAt": T1,
        "completedAt": T2,
        "failedAt": None,
        "cancelledAt": None,
        "pausedAt": None,
    },
    types.AgentMemoryState: {
        "agentExecutionMemoryStateId": "ams_1",
        "agentExecutionId": "aex_1",
        "state": {"steps": []},
        "version": 1,
        "createdAt": T0,
        "updatedAt": T0,
    },
    types.AgentLiveTail: {
        "execution": {
            "agentExecutionId": "aex_1",
            "status": "running",
            "currentStep": 1,
            "createdAt": T0,
            "updatedAt": T1,
            "startedAt": T1,
            "completedAt": None,
        },
        "latestMemoryState": {
            "agentExecutionMemoryStateId": "ams_2",
            "agentExecutionId": "aex_1",
            "state": {},
            "version": 2,
            "createdAt": T1,
            "updatedAt": T1,
        },
        "steps": [{"stepType": "thought", "thought": "t", "startedAt": T0, "endedAt": T1}],
        "totalVersions": 2,
    },
    types.AuditLog: {
        "auditLogId": "aud_1",
        "teamId": "team_1",
        "userId": "user_1",
        "apiTokenId": None,
        "sessionId": None,
        "eventType": "agent.created",
        "resourceType": "agent",
        "resourceId": "agent_1",
        "action": "create",
        "changes": None,
        "metadata": {"requestId": "r1"},
        "createdAt": T0,
    },
    types.Dataset: {
        "datasetId": "ds_1",
        "teamId": "team_1",
        "name": "d",
        "description": None,
        "createdAt": T0,
        "updatedAt": T1,
        "currentSchemaVersionId": None,
        "currentDataVersionId": None,
        "activeDataSchemaVersionId": None,
        "activeDataVersionId": None,
        "processingStatus": None,
        "recordCount": None,
        "totalSizeBytes": None,
        "processingError": None,
        "processingReport": None,
    },
    types.DatasetDataVersion: {
        "datasetDataVersionId": "ddv_1",
        "datasetId": "ds_1",
        "versionNo": 1,
        "sourceFileUri": "datasets/ds_1/1.csv",
        "fileType": "csv",
        "status": "current",
        "createdAt": T0,
        "updatedAt": T1,
        "fileName": "a.csv",
        "fileHash": None,
        "fileSizeBytes": 10,
        "rowCount": 2,
        "uploadStatus": "completed",
    },
    types.DatasetSchemaVersion: {
        "datasetSchemaVersionId": "dsv_1",
        "datasetId": "ds_1",
        "versionNo": 1,
        "columnsJson": [{"name": "a", "type": "string", "nullable": True}],
        "status": "current",
        "parsingOptions": None,
        "isCurrent": True,
        "createdAt": T0,
        "updatedAt": T0,
    },
    types.File: {
        "fileId": "file_1",
        "teamId": "team_1",
        "fileName": "a.txt",
        "originalName": "a.txt",
        "fileSize": 3,
        "mimeType": "text/plain",
        "fileHash": None,
        "uploadStatus": "completed",
        "uploadedBy": "user_1",
        "datasetId": None,
        "createdAt": T0,
        "updatedAt": T1,
    },
    types.Pipeline: {
        "pipelineId": "pipe_1",
        "teamId": "team_1",
        "name": "p",
        "description": None,
        "createdAt": T0,
        "updatedAt": T0,
        "lastRunAt": T2,
        "totalRuns": 1,
        "successfulRuns": 1,
        "successRate": 100.0,
    },
    types.PipelineConfigurationVersion: {
        "pipelineConfigurationVersionId": "pcv_1",
        "pipelineId": "pipe_1",
        "configuration": {"id": "x", "name": "x", "blocks": {}, "connections": []},
        "version": 1,
        "status": "draft",
        "createdAt": T0,
        "updatedAt": T0,
    },
    types.PipelineExecution: {
        "pipelineExecutionId": "pex_1",
        "pipelineConfigurationVersionId": "pcv_1",
        "pipelineId": "pipe_1",
        "pipelineInput": {"in": "x"},
        "pipelineInputSummary": "x",
        "pipelineOutput": None,
        "pipelineOutputSummary": None,
        "pipelineOutputFileUri": None,
        "status": "failed",
        "progressData": {},
        "currentStep": 0,
        "totalSteps": 2,
        "createdAt": T0,
        "updatedAt": T2,
        "startedAt": T1,
        "completedAt": None,
        "failedAt": T2,
        "cancelledAt": None,
        "pausedAt": None,
    },
    types.Team: {"teamId": "team_1", "name": "t", "createdAt": T0, "updatedAt": T1},
    types.TeamUser: {
        "teamUserId": "tu_1",
        "teamId": "team_1",
        "userId": "user_1",
        "createdAt": T0,
        "updatedAt": T1,
    },
    types.User: {"userId": "user_1", "fullName": "U", "createdAt": T0, "updatedAt": T1},
}


def wire_types() -> List[Type[BaseModel]]:
    """Every pydantic model ``moderatelyai_sdk.types`` exports."""
    return [
        value
        for value in vars(types).values()
        if inspect.isclass(value) and issubclass(value, BaseModel) and value is not BaseModel
    ]


def expected(value: str) -> datetime:
    """The server's format read independently of ``parse_timestamp``."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def stamped(model: BaseModel) -> Iterator[Tuple[BaseModel, str]]:
    """(model, ``*_at`` field) of the model and of every model nested in it."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name.endswith("_at"):
            yield model, name
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                yield from stamped(item)


@pytest.mark.parametrize("cls", wire_types(), ids=lambda cls: cls.__name__)
def test_every_timestamp_field_has_a_typed_datetime_twin(cls: Type[BaseModel]) -> None:
    fields = [name for name in cls.model_fields if name.endswith("_at")]
    twins = {name: attr for name, attr in inspect.getmembers(cls) if isinstance(attr, Timestamp)}
    assert {f"{name}_datetime" for name in fields} == set(twins)
    for name, twin in twins.items():
        assert twin.source == name.removesuffix("_datetime") and twin.name == name
        assert name not in cls.model_fields  # never a field: not validated, not in to_dict()


def test_every_type_with_timestamps_has_a_wire_sample() -> None:
    with_stamps = {cls for cls in wire_types() if any(n.endswith("_at") for n in cls.model_fields)}
    nested = {types.AgentThought, types.AgentStep, types.AgentLiveTailExecution}
    assert with_stamps - nested <= set(WIRE)


@pytest.mark.parametrize("cls", list(WIRE), ids=lambda cls: cls.__name__)
def test_wire_timestamps_read_as_aware_utc_datetimes(cls: Type[BaseModel]) -> None:
    wire = WIRE[cls]
    model = cls.model_validate(wire)
    seen = 0
    for owner, name in stamped(model):
        raw = getattr(owner, name)
        value = getattr(owner, f"{name}_datetime")
        if raw is None:
            assert value is None
            continue
        seen += 1
        assert isinstance(raw, str)  # the wire's string is kept as it came
        assert isinstance(value, datetime) and value == expected(raw)
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    assert seen >= 1
    assert model.to_dict() == wire  # the twins are not part of the wire form
    assert "created_at_datetime" not in model and "createdAtDatetime" not in dict(model)


def test_nested_and_snake_case_timestamps() -> None:
    tail = types.AgentLiveTail.model_validate(WIRE[types.AgentLiveTail])
    assert tail.execution.started_at_datetime == expected(T1)
    assert tail.execution.completed_at_datetime is None
    assert tail.latest_memory_state is not None
    assert tail.latest_memory_state.created_at_datetime == expected(T1)
    step = tail.steps[0]
    assert (step.started_at_datetime, step.ended_at_datetime) == (expected(T0), expected(T1))
    snake = types.AgentStep.model_validate({"step_type": "task", "started_at": T2})
    assert snake.started_at_datetime == expected(T2) and snake.ended_at_datetime is None
    execution = types.AgentExecution.model_validate(WIRE[types.AgentExecution])
    assert execution.thoughts[0].created_at_datetime == expected(T1)
    assert execution.completed_at_datetime - execution.created_at_datetime == timedelta(  # type: ignore[operator]
        seconds=92, microseconds=496000
    )


@pytest.mark.parametrize("raw", [None, "", "yesterday", "2025-13-45T99:00:00Z", "12:00"])
def test_absent_or_unparsable_timestamps_are_none(raw: Any) -> None:
    body = {"userId": "u", "fullName": "U", "createdAt": raw}
    user = types.User.model_validate(body)
    assert user.created_at == raw and user.created_at_datetime is None
    assert types.User.model_validate({"userId": "u", "fullName": "U"}).updated_at_datetime is None
    assert user.to_dict() == body


def test_offsets_and_naive_timestamps_are_utc() -> None:
    with_offset = types.Team.model_validate(
        {"teamId": "t", "name": "t", "createdAt": "2025-08-22T22:14:27.504+02:00"}
    )
    naive = types.Team.model_validate(
        {"teamId": "t", "name": "t", "createdAt": "2025-08-22T20:14:27.504"}
    )
    for team in (with_offset, naive):
        created = team.created_at_datetime
        assert created == expected(T0) and created is not None and created.tzinfo == timezone.utc
    assert with_offset.created_at == "2025-08-22T22:14:27.504+02:00"  # the string as sent
    assert parse_timestamp("2025-08-22T22:14:27.504+02:00") == expected(T0)


def test_twins_follow_the_string_and_are_read_only() -> None:
    pipeline = types.Pipeline.model_validate(WIRE[types.Pipeline])
    pipeline.updated_at = T2  # the string field stays writable; the twin reads it each time
    assert pipeline.updated_at_datetime == expected(T2)
    with pytest.raises(AttributeError):
        pipeline.updated_at_datetime = expected(T0)  # type: ignore[misc]
    assert pipeline.updated_at_datetime == expected(T2)
    assert repr(types.Pipeline.updated_at_datetime) == "Timestamp('updated_at')"


def test_rich_models_inherit_the_twins() -> None:
    from moderatelyai_sdk import FileModel, PipelineExecutionAsyncModel

    file = FileModel.model_validate(WIRE[types.File])
    assert file.created_at_datetime == expected(T0)
    execution = PipelineExecutionAsyncModel.model_validate(WIRE[types.PipelineExecution])
    assert execution.failed_at_datetime == expected(T2) and execution.paused_at_datetime is None


@pytest.mark.anyio
async def test_server_timestamps_are_datetimes(fresh: Any) -> None:
    async with AsyncModeratelyAI(
        api_key=fresh.api_key, team_id=fresh.team_id, base_url=fresh.base_url
    ) as client:
        agent = await client.agents.create(name=f"stamped {uuid.uuid4().hex[:8]}")
        again = await client.agents.retrieve(agent.agent_id)
    created = again.created_at_datetime
    assert isinstance(created, datetime) and created.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - created) < timedelta(days=1)
    assert again.created_at == agent.created_at and isinstance(again.created_at, str)
    assert agent.created_at_datetime == created and again.last_run_at_datetime is None
