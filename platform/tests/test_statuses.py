"""The status vocabularies (moderately/statuses.py) are what the OpenAPI document lists for every
status field and parameter, and what the status columns hold: plain VARCHARs, as the
migrations create them, that read back as members and refuse text outside the vocabulary."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from moderately.app import create_app
from moderately.config import Settings
from moderately.db.migrate import upgrade_to_head
from moderately.db.models import (
    AgentExecution,
    Base,
    Dataset,
    DatasetDataVersion,
    DatasetSchemaVersion,
    File,
    Job,
    PipelineConfigurationVersion,
    PipelineExecution,
    StatusColumn,
)
from moderately.db.session import database_url
from moderately.engine import ExecutionProgress
from moderately.schemas.agents import AgentExecutionUpdate
from moderately.schemas.entities import UploadStatusFilter
from moderately.services.files import STATUS_ALIASES
from moderately.services.lifecycle import AGENT_EXECUTIONS, DATASET_PROCESSING, PIPELINE_EXECUTIONS
from moderately.statuses import (
    TERMINAL_EXECUTION_STATUSES,
    BlockStatus,
    ExecutionStatus,
    JobStatus,
    ProcessingStatus,
    UploadStatus,
    VersionStatus,
    Vocabulary,
)

EXECUTION = ExecutionStatus.values()
VERSION = VersionStatus.values()
UPLOAD = UploadStatus.values()
PROCESSING = ProcessingStatus.values()
# An execution's PATCH (agents): pause, resume or cancel, in the order the wire lists them.
AGENT_MOVES = ["paused", "running", "cancelled"]

# Where each vocabulary is on the wire: (schema component, property) -> its values.
PROPERTIES: dict[tuple[str, str], list[str]] = {
    ("ExecutionPublic", "status"): EXECUTION,
    ("ExecutionUpdate", "status"): EXECUTION,
    ("AgentExecutionPublic", "status"): EXECUTION,
    ("LiveTailExecution", "status"): EXECUTION,
    ("AgentExecutionUpdate", "status"): AGENT_MOVES,
    ("VersionPublic", "status"): VERSION,
    ("VersionCreate", "status"): VERSION,
    ("VersionUpdate", "status"): VERSION,
    ("DataVersionCreate", "status"): VERSION,
    ("DataVersionPublic", "status"): VERSION,
    ("SchemaVersionCreate", "status"): VERSION,
    ("SchemaVersionPublic", "status"): VERSION,
    ("SchemaVersionUpdate", "status"): VERSION,
    ("FilePublic", "uploadStatus"): UPLOAD,
    ("DataVersionPublic", "uploadStatus"): UPLOAD,
    ("DatasetPublic", "processingStatus"): PROCESSING,
}
# (list path, query parameter) -> its values (an array parameter: its items').
PARAMETERS: dict[tuple[str, str], list[str]] = {
    ("/pipeline-executions", "status"): EXECUTION,
    ("/pipeline-executions", "statuses"): EXECUTION,
    ("/agent-executions", "statuses"): EXECUTION,
    ("/pipeline-configuration-versions", "status"): VERSION,
    ("/pipeline-configuration-versions", "statuses"): VERSION,
    ("/dataset-data-versions", "status"): VERSION,
    ("/dataset-data-versions", "uploadStatus"): UPLOAD,
    ("/dataset-schema-versions", "status"): VERSION,
    # The files list also takes 0.2.7's spellings of the three (services/files.py).
    ("/files", "uploadStatus"): [member.value for member in UploadStatusFilter],
}
# (table, column) -> the vocabulary it stores and the VARCHAR length the migrations give it.
COLUMNS: dict[tuple[str, str], tuple[type[Vocabulary], int]] = {
    ("pipeline_executions", "status"): (ExecutionStatus, 16),
    ("agent_executions", "status"): (ExecutionStatus, 16),
    ("pipeline_configuration_versions", "status"): (VersionStatus, 16),
    ("dataset_data_versions", "status"): (VersionStatus, 16),
    ("dataset_schema_versions", "status"): (VersionStatus, 16),
    ("files", "upload_status"): (UploadStatus, 16),
    ("dataset_data_versions", "upload_status"): (UploadStatus, 16),
    ("datasets", "processing_status"): (ProcessingStatus, 32),
    ("jobs", "status"): (JobStatus, 16),
}
STATUS_NAME = re.compile(r"(?i)(.*_)?status(es)?$|.*Status(es)?$")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data_dir:
        served: dict[str, Any] = create_app(Settings(data_dir=Path(data_dir))).openapi()
        return served


def resolve(schema: Mapping[str, Any], document: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return dict(document["components"]["schemas"][ref.rsplit("/", 1)[-1]])


def enum_of(schema: Mapping[str, Any], document: Mapping[str, Any]) -> list[str] | None:
    """The values a (possibly nullable, possibly array) string schema allows; None: any."""
    schema = resolve(schema, document)
    if "enum" in schema:
        return list(schema["enum"])
    if "items" in schema:
        return enum_of(schema["items"], document)
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return enum_of(option, document)
    return None


def status_fields(document: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, str], Any]]:
    """Every property and query parameter named like a status, with its schema."""
    for name, component in document["components"]["schemas"].items():
        for field, schema in component.get("properties", {}).items():
            if STATUS_NAME.match(field):
                yield "property", (name, field), schema
    for path, item in document["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and STATUS_NAME.match(parameter["name"]):
                    yield "parameter", (path, parameter["name"]), parameter["schema"]


def test_vocabularies_are_their_spellings() -> None:
    assert EXECUTION == ["pending", "running", "completed", "failed", "cancelled", "paused"]
    assert VERSION == ["draft", "current", "archived"]
    assert UPLOAD == ["pending", "completed", "failed"]
    assert PROCESSING == ["completed", "failed", "in_progress", "needs-processing"]
    assert JobStatus.values() == ["queued", "running", "done", "failed"]
    # A block of a run shares its execution's spellings, but is never paused itself.
    assert set(BlockStatus.values()) == set(EXECUTION) - {"paused"}
    assert {"completed", "failed", "cancelled"} == TERMINAL_EXECUTION_STATUSES
    # Members are their strings: comparisons with stored or wire text need no conversion.
    assert ExecutionStatus("paused") is ExecutionStatus.PAUSED
    assert ExecutionStatus.PAUSED == "paused" and f"{ExecutionStatus.PAUSED}" == "paused"


@pytest.mark.parametrize(("component", "field"), sorted(PROPERTIES))
def test_schema_properties_list_the_vocabulary(
    document: dict[str, Any], component: str, field: str
) -> None:
    schema = document["components"]["schemas"][component]["properties"][field]
    assert enum_of(schema, document) == PROPERTIES[component, field]


@pytest.mark.parametrize(("path", "name"), sorted(PARAMETERS))
def test_list_parameters_list_the_vocabulary(
    document: dict[str, Any], path: str, name: str
) -> None:
    parameters = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
    assert enum_of(parameters[name]["schema"], document) == PARAMETERS[path, name]


def test_every_status_on_the_wire_is_a_vocabulary(document: dict[str, Any]) -> None:
    """A status field or parameter added later is a vocabulary's, and listed above; only the
    health check's free-form `status` ("ok") lists no values."""
    unlisted = []
    free = []
    for kind, where, schema in status_fields(document):
        values = enum_of(schema, document)
        table = PROPERTIES if kind == "property" else PARAMETERS
        if values is None:
            free.append(where)
        elif where not in table:
            unlisted.append(where)
    assert unlisted == []
    assert free == [("HealthPublic", "status")]


def test_the_files_filter_maps_each_spelling_to_a_stored_status() -> None:
    assert set(UPLOAD) <= set(UploadStatusFilter)
    assert set(STATUS_ALIASES) == set(UploadStatusFilter)
    assert {STATUS_ALIASES[status] for status in UPLOAD} == set(UploadStatus)
    assert all(isinstance(stored, UploadStatus) for stored in STATUS_ALIASES.values())


def test_wire_values_read_as_members_and_others_are_refused_as_before() -> None:
    class Probe(BaseModel):
        status: ExecutionStatus
        version: VersionStatus = VersionStatus.DRAFT

    probe = Probe.model_validate_json('{"status": "paused"}')
    assert probe.status is ExecutionStatus.PAUSED and probe.version is VersionStatus.DRAFT
    assert probe.model_dump(mode="json") == {"status": "paused", "version": "draft"}
    with pytest.raises(ValidationError) as refused:
        Probe.model_validate({"status": "done"})
    # The message a Literal gave: the client reads the same 400 as before.
    assert refused.value.errors()[0]["msg"] == (
        "Input should be 'pending', 'running', 'completed', 'failed', 'cancelled' or 'paused'"
    )
    # A narrowed field (Among) takes only its members.
    assert AgentExecutionUpdate.model_validate({"status": "running"}).status == "running"
    with pytest.raises(ValidationError) as narrowed:
        AgentExecutionUpdate.model_validate({"status": "completed"})
    assert narrowed.value.errors()[0]["msg"] == (
        "Input should be 'paused', 'running' or 'cancelled'"
    )


def test_lifecycles_move_only_within_their_vocabulary() -> None:
    for lifecycle, vocabulary in (
        (PIPELINE_EXECUTIONS, ExecutionStatus),
        (AGENT_EXECUTIONS, ExecutionStatus),
        (DATASET_PROCESSING, ProcessingStatus),
    ):
        moves = lifecycle.transitions
        statuses = {status for status in moves if status is not None}
        statuses |= {target for targets in moves.values() for target in targets}
        assert statuses <= set(vocabulary), lifecycle.model
        assert set(lifecycle.stamps) <= set(vocabulary)
    assert not any(PIPELINE_EXECUTIONS.transitions.get(s) for s in TERMINAL_EXECUTION_STATUSES)


def test_engine_progress_speaks_the_vocabularies() -> None:
    progress = ExecutionProgress([("a", "test_block", None), ("b", "test_block", None)])
    progress.run_started()
    progress.block_started("a")
    progress.block_completed("a")
    progress.finish(ExecutionStatus.PAUSED, "Paused")
    data = progress.progress_data()
    assert data["status"] == "paused"
    assert {block["status"] for block in data["blocks"].values()} == {"completed", "pending"}
    assert all(block["status"] in set(BlockStatus) for block in data["blocks"].values())
    assert data["not_run_blocks"] == ["b"]


@pytest.mark.parametrize(("table", "column"), sorted(COLUMNS))
def test_model_columns_store_the_vocabulary(table: str, column: str) -> None:
    vocabulary, length = COLUMNS[table, column]
    column_type = Base.metadata.tables[table].columns[column].type
    assert isinstance(column_type, StatusColumn)
    assert column_type.vocabulary is vocabulary
    assert column_type.length == length
    assert max(len(value) for value in vocabulary.values()) <= length


def test_every_status_column_is_listed() -> None:
    typed = {
        (table.name, column.name)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, StatusColumn)
    }
    assert typed == set(COLUMNS)
    models = (
        PipelineExecution,
        AgentExecution,
        PipelineConfigurationVersion,
        DatasetDataVersion,
        DatasetSchemaVersion,
        File,
        Dataset,
        Job,
    )
    assert {model.__tablename__ for model in models} == {table for table, _ in COLUMNS}


def test_migrated_columns_are_plain_text_without_checks(tmp_path: Path) -> None:
    """What the migrations create is what the models describe: VARCHAR(n), no CHECK (so a
    vocabulary can grow without a migration), and the partial `current` indexes by value."""
    settings = Settings(data_dir=tmp_path)
    upgrade_to_head(settings)
    engine = create_engine(database_url(settings, sync=True))
    try:
        inspector = inspect(engine)
        for (table, column), (_, length) in COLUMNS.items():
            reflected = {c["name"]: c for c in inspector.get_columns(table)}[column]
            assert str(reflected["type"]) == f"VARCHAR({length})", (table, column)
            assert inspector.get_check_constraints(table) == [], table
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
            )
            indexes = {name: sql for name, sql in rows}
        for table in ("pipeline_configuration_versions", "dataset_data_versions"):
            where = indexes[f"uq_{table}_current"].rsplit("WHERE", 1)[-1].strip()
            assert where == f"status = '{VersionStatus.CURRENT}'"
        where = indexes["uq_dataset_schema_versions_current"].rsplit("WHERE", 1)[-1].strip()
        assert where == "status = 'current'"
    finally:
        engine.dispose()


def test_status_columns_read_members_and_refuse_other_text() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[Job.__table__])
    try:
        with Session(engine) as session:
            session.add(Job(job_id="j1", kind="k", max_attempts=1))
            session.commit()
            stored = session.execute(text("SELECT status FROM jobs")).scalar_one()
            assert stored == "queued" and type(stored) is str  # the plain text, as before
            job = session.execute(select(Job)).scalar_one()
            assert job.status is JobStatus.QUEUED
            assert session.execute(
                select(Job.job_id).where(Job.status == "queued")
            ).scalars().all() == ["j1"]
            job.status = "finished"  # type: ignore[assignment]  # not a JobStatus
            with pytest.raises(StatementError):
                session.commit()
    finally:
        engine.dispose()
