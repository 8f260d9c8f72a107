"""SQLAlchemy 2 models. One schema for SQLite and PostgreSQL; migrations live in db/migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from moderately.ids import new_id
from moderately.statuses import (
    ExecutionStatus,
    JobStatus,
    ProcessingStatus,
    UploadStatus,
    VersionStatus,
    Vocabulary,
)
from moderately.timeutil import as_utc, utcnow

ID = String(21)

# Stable constraint names, so Alembic can address them on both dialects.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Always hands back aware UTC datetimes; SQLite would otherwise return naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        # SQLite compares the stored text, so store one canonical naive-UTC form there.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


V = TypeVar("V", bound=Vocabulary)


class StatusColumn(TypeDecorator[V]):
    """A status of one vocabulary (moderately.statuses), stored as its plain text in a
    VARCHAR(length): the column is what it always was (no CHECK, no native enum), the values
    read back are members, and writing text outside the vocabulary raises (StatementError)."""

    impl = String
    cache_ok = True

    def __init__(self, vocabulary: type[V], length: int) -> None:
        super().__init__(length)
        self.vocabulary = vocabulary
        self.length = length  # part of the cache key, beside the vocabulary

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.vocabulary(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> V | None:
        return None if value is None else self.vocabulary(value)


def status_is(member: Vocabulary) -> Any:
    """`status = '<member>'`: the WHERE of a partial index on the status column."""
    return text(f"status = '{member.value}'")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Team(Timestamped, Base):
    __tablename__ = "teams"

    team_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)


class User(Timestamped, Base):
    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    nickname: Mapped[str | None] = mapped_column(String(255))


class TeamUser(Timestamped, Base):
    __tablename__ = "team_users"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    team_user_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.user_id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # The member's email rides along with every membership row.
    email: Mapped[str | None] = column_property(
        select(User.email).where(User.user_id == user_id).correlate_except(User).scalar_subquery()
    )


class ApiToken(Timestamped, Base):
    __tablename__ = "api_tokens"

    token_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.team_id", ondelete="CASCADE"), index=True
    )
    created_by_user_id: Mapped[str] = mapped_column(
        ForeignKey("users.user_id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # SHA-256 hex of the full secret; the secret itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApiTokenUsage(Base):
    """Request counts per token, hour, method and route, written in batches by the recorder."""

    __tablename__ = "api_token_usage"
    __table_args__ = (Index("ix_api_token_usage_token_hour", "token_id", "hour"),)

    usage_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_id: Mapped[str] = mapped_column(ForeignKey("api_tokens.token_id", ondelete="CASCADE"))
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    method: Mapped[str] = mapped_column(String(16))
    endpoint: Mapped[str] = mapped_column(String(255))
    request_count: Mapped[int] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(Integer)
    total_duration_ms: Mapped[float] = mapped_column(Float)


class Agent(Timestamped, Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    agent_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(1000))


class AgentConfigurationVersion(Timestamped, Base):
    """The behaviour of an agent: at most one `is_current` version per agent
    (partial unique index; services/agent_configurations.py demotes the old one first)."""

    __tablename__ = "agent_configuration_versions"
    __table_args__ = (
        UniqueConstraint("agent_id", "version_number"),
        Index(
            "uq_agent_configuration_versions_current",
            "agent_id",
            unique=True,
            sqlite_where=text("is_current = 1"),
            postgresql_where=text("is_current"),
        ),
        Index("ix_agent_configuration_versions_team_id_created_at", "team_id", "created_at"),
    )

    agent_configuration_version_id: Mapped[str] = mapped_column(
        ID, primary_key=True, default=new_id
    )
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.agent_id", ondelete="CASCADE"))
    # The agent's team, kept here so scoping needs no join.
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    version_number: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    instructions: Mapped[str] = mapped_column(Text)
    input_schema: Mapped[Any] = mapped_column(JSON)
    output_schema: Mapped[Any] = mapped_column(JSON)
    system_prompt: Mapped[str | None] = mapped_column(Text)
    llm_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tool_config: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    execution_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AgentExecution(Timestamped, Base):
    """One run of an agent configuration version: pending -> running -> completed | failed |
    cancelled (paused in between); services/lifecycle.py AGENT_EXECUTIONS holds the moves."""

    __tablename__ = "agent_executions"
    __table_args__ = (
        Index("ix_agent_executions_team_id_created_at", "team_id", "created_at"),
        Index("ix_agent_executions_agent_id_created_at", "agent_id", "created_at"),
        Index(
            "ix_agent_executions_agent_configuration_version_id",
            "agent_configuration_version_id",
        ),
    )

    agent_execution_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    agent_configuration_version_id: Mapped[str] = mapped_column(
        ForeignKey(
            "agent_configuration_versions.agent_configuration_version_id", ondelete="CASCADE"
        )
    )
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.agent_id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    status: Mapped[ExecutionStatus] = mapped_column(StatusColumn(ExecutionStatus, 16))
    agent_input: Mapped[dict[str, Any]] = mapped_column(JSON)
    agent_input_schema: Mapped[Any] = mapped_column(JSON)
    agent_output_schema: Mapped[Any] = mapped_column(JSON)
    agent_input_summary: Mapped[str] = mapped_column(Text)
    agent_output: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    agent_output_summary: Mapped[str | None] = mapped_column(Text)
    thoughts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    max_actions: Mapped[int | None] = mapped_column(Integer)
    planning_interval: Mapped[int | None] = mapped_column(Integer)
    current_step: Mapped[int | None] = mapped_column(Integer)
    # Token usage of the run so far ({"input_tokens", "output_tokens", ...}), from its outcome.
    usage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Which worker attempt runs it: its writes are conditional on still being the runner.
    runner_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgentExecutionMemoryState(Timestamped, Base):
    """A snapshot of an execution's working memory after one step: versions 1, 2, 3, ..."""

    __tablename__ = "agent_execution_memory_states"
    __table_args__ = (UniqueConstraint("agent_execution_id", "version"),)

    agent_execution_memory_state_id: Mapped[str] = mapped_column(
        ID, primary_key=True, default=new_id
    )
    agent_execution_id: Mapped[str] = mapped_column(
        ForeignKey("agent_executions.agent_execution_id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)


class UploadTracked:
    """Bytes uploaded through a presigned URL (files, dataset data versions): the row is the
    gate. The bytes live in the object store under `storage_key`; only a `completed` row hands
    out download URLs (services/transfers.py holds the shared life cycle)."""

    # As the client sent it (hex or "sha256:hex"); `hash_hex` is the lower-case hex for lookups.
    hash_hex: Mapped[str | None] = mapped_column(String(64))
    upload_status: Mapped[UploadStatus] = mapped_column(
        StatusColumn(UploadStatus, 16), default=UploadStatus.PENDING
    )
    failure_reason: Mapped[str | None] = mapped_column(Text)
    storage_key: Mapped[str] = mapped_column(String(1024))
    # When the upload URL stops working; cleared once the upload is completed or failed.
    upload_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class File(UploadTracked, Timestamped, Base):
    """A stored file: the row is the gate, its bytes live in the object store under
    `storage_key`, and only a `completed` row hands out download URLs."""

    __tablename__ = "files"
    __table_args__ = (
        Index("ix_files_team_id_created_at", "team_id", "created_at"),
        Index("ix_files_team_id_hash_hex", "team_id", "hash_hex"),
        Index("ix_files_upload_status_upload_expires_at", "upload_status", "upload_expires_at"),
    )

    file_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(1000))
    original_name: Mapped[str | None] = mapped_column(String(1000))
    file_size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(255))
    file_hash: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.user_id", ondelete="SET NULL")
    )
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    # An optional link to a dataset of the same team; deleting the dataset unlinks the file.
    dataset_id: Mapped[str | None] = mapped_column(
        ForeignKey("datasets.dataset_id", ondelete="SET NULL"), index=True
    )


class Dataset(Timestamped, Base):
    """A versioned table. The version pointers are kept by services/datasets.py: at most one
    `current` data version and one `current` schema version (partial unique indexes below)."""

    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    dataset_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    # Plain ids, not foreign keys (the versions reference the dataset; no cycle to untangle).
    current_data_version_id: Mapped[str | None] = mapped_column(String(21))
    current_schema_version_id: Mapped[str | None] = mapped_column(String(21))
    # What the last successful processing run used.
    active_data_version_id: Mapped[str | None] = mapped_column(String(21))
    active_data_schema_version_id: Mapped[str | None] = mapped_column(String(21))
    processing_status: Mapped[ProcessingStatus | None] = mapped_column(
        StatusColumn(ProcessingStatus, 32)
    )
    # The job whose result counts; a newer request (or new current data) supersedes it.
    processing_job_id: Mapped[str | None] = mapped_column(String(21))
    processing_error: Mapped[str | None] = mapped_column(Text)
    processing_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    record_count: Mapped[int | None] = mapped_column(BigInteger)
    total_size_bytes: Mapped[int | None] = mapped_column(BigInteger)


class DatasetDataVersion(UploadTracked, Timestamped, Base):
    __tablename__ = "dataset_data_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "version_no"),
        Index(
            "uq_dataset_data_versions_current",
            "dataset_id",
            unique=True,
            sqlite_where=status_is(VersionStatus.CURRENT),
            postgresql_where=status_is(VersionStatus.CURRENT),
        ),
        Index("ix_dataset_data_versions_team_id_created_at", "team_id", "created_at"),
        Index(
            "ix_dataset_data_versions_upload_status_upload_expires_at",
            "upload_status",
            "upload_expires_at",
        ),
    )

    dataset_data_version_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.dataset_id", ondelete="CASCADE"))
    # The dataset's team, kept here so scoping needs no join.
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    version_no: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(255))
    file_type: Mapped[str] = mapped_column(String(8))
    status: Mapped[VersionStatus] = mapped_column(StatusColumn(VersionStatus, 16))
    # Made current when the upload completes (created with status "current").
    promote_on_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    # Declared at create (optional), else at complete, else computed from the bytes.
    file_hash: Mapped[str | None] = mapped_column(String(255))
    file_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # Counted by the server at complete (moderately.tabular.count_rows), never the client's.
    row_count: Mapped[int | None] = mapped_column(BigInteger)


class DatasetSchemaVersion(Timestamped, Base):
    __tablename__ = "dataset_schema_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "version_no"),
        Index(
            "uq_dataset_schema_versions_current",
            "dataset_id",
            unique=True,
            sqlite_where=status_is(VersionStatus.CURRENT),
            postgresql_where=status_is(VersionStatus.CURRENT),
        ),
        Index("ix_dataset_schema_versions_team_id_created_at", "team_id", "created_at"),
    )

    dataset_schema_version_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.dataset_id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    version_no: Mapped[int] = mapped_column(Integer)
    status: Mapped[VersionStatus] = mapped_column(StatusColumn(VersionStatus, 16))
    # Normalised wire forms (moderately.tabular's Column.to_wire / ParsingOptions.to_wire).
    columns_json: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    parsing_options: Mapped[dict[str, Any]] = mapped_column(JSON)

    @property
    def is_current(self) -> bool:
        return self.status == VersionStatus.CURRENT


class Job(Base):
    """A unit of background work (workers/db_queue.py): queued -> running -> done | failed.

    A running job holds a lease; a worker that stops renewing it (a crash) loses the job to
    recovery, which queues it again until `max_attempts` is spent.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_run_after", "status", "run_after"),
        Index("ix_jobs_status_lease_expires_at", "status", "lease_expires_at"),
        Index("ix_jobs_status_team_id", "status", "team_id"),
    )

    job_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The team the work is for: workers run at most `team_running_jobs` of one team at once.
    team_id: Mapped[str | None] = mapped_column(ID)
    status: Mapped[JobStatus] = mapped_column(StatusColumn(JobStatus, 16), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    # Not before this time (retries back off).
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    worker_id: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobResult(Base):
    """The answer of a job that a request waits for (services/job_requests.py, jobs/replies.py):
    its `result`, or a user-facing `error` with the HTTP status the request answers with.

    Written once, by the job's process or by its worker when the job failed for good; a table of
    its own so both queue backends (the jobs table, procrastinate) share it. Rows older than a
    day are purged whenever a job writes one.
    """

    __tablename__ = "job_results"

    job_id: Mapped[str] = mapped_column(ID, primary_key=True)
    team_id: Mapped[str | None] = mapped_column(ID)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    error_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ObjectRemoval(Base):
    """Objects to remove from the object store because the rows that owned them were deleted.

    Written in the deleting transaction, so a rollback leaves the objects alone and a commit
    cannot lose track of them: the request removes them right after it commits, and the API's
    periodic sweep retries whatever is left (a crash or a store outage in between).
    services/object_removals.py holds the rules.
    """

    __tablename__ = "object_removals"

    removal_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    # An object key, or a key prefix ending with "/" (everything below it).
    target: Mapped[str] = mapped_column(String(1024))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class IdempotencyRecord(Base):
    """The first response to a POST carrying an Idempotency-Key, replayed for repeats."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    record_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # SHA-256 of the bearer token: keys are per token, and the record needs no token row.
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(255))
    response_body: Mapped[str | None] = mapped_column(Text)
    # The role checks the first request passed ([[team_id, role], ...]), re-checked on replay.
    authorization: Mapped[list[list[str]] | None] = mapped_column(JSON)
    # Set instead of `response_body` when the response carried a secret (a new API token).
    secret_resource_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditLog(Base):
    """Who did what to which resource, written in the transaction that did it."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_team_id_created_at", "team_id", "created_at"),
        Index("ix_audit_logs_resource", "resource_type", "resource_id"),
        Index("ix_audit_logs_user_id_created_at", "user_id", "created_at"),
    )

    audit_log_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    team_id: Mapped[str | None] = mapped_column(ID)
    user_id: Mapped[str | None] = mapped_column(ID)
    api_token_id: Mapped[str | None] = mapped_column(ID)
    session_id: Mapped[str | None] = mapped_column(ID)
    event_type: Mapped[str] = mapped_column(String(100))
    resource_type: Mapped[str] = mapped_column(String(50))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # ("metadata" is taken on declarative classes.)
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthGeneration(Base):
    """A counter that every change able to end a token's access moves, in the same
    transaction; API processes drop their cached principals when it moves
    (services/token_cache.py)."""

    __tablename__ = "auth_generations"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)


class RateLimitBucket(Base):
    """One token bucket per API token, shared by every API process through the database."""

    __tablename__ = "rate_limit_buckets"

    token_id: Mapped[str] = mapped_column(
        ForeignKey("api_tokens.token_id", ondelete="CASCADE"), primary_key=True
    )
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Pipeline(Timestamped, Base):
    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    pipeline_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)


class PipelineConfigurationVersion(Timestamped, Base):
    __tablename__ = "pipeline_configuration_versions"
    __table_args__ = (
        UniqueConstraint("pipeline_id", "version"),
        Index(
            "uq_pipeline_configuration_versions_current",
            "pipeline_id",
            unique=True,
            sqlite_where=status_is(VersionStatus.CURRENT),
            postgresql_where=status_is(VersionStatus.CURRENT),
        ),
        Index("ix_pipeline_configuration_versions_team_id_created_at", "team_id", "created_at"),
    )

    pipeline_configuration_version_id: Mapped[str] = mapped_column(
        ID, primary_key=True, default=new_id
    )
    pipeline_id: Mapped[str] = mapped_column(
        ForeignKey("pipelines.pipeline_id", ondelete="CASCADE")
    )
    # The pipeline's team, kept here so scoping needs no join.
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[VersionStatus] = mapped_column(StatusColumn(VersionStatus, 16))
    configuration: Mapped[dict[str, Any]] = mapped_column(JSON)


class PipelineExecution(Timestamped, Base):
    """One run of a configuration version: pending -> running -> completed | failed | cancelled
    (paused in between); services/pipeline_executions.py holds the transitions."""

    __tablename__ = "pipeline_executions"
    __table_args__ = (
        Index("ix_pipeline_executions_team_id_created_at", "team_id", "created_at"),
        Index("ix_pipeline_executions_pipeline_id_created_at", "pipeline_id", "created_at"),
        Index(
            "ix_pipeline_executions_pipeline_configuration_version_id",
            "pipeline_configuration_version_id",
        ),
    )

    pipeline_execution_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    pipeline_configuration_version_id: Mapped[str] = mapped_column(
        ForeignKey(
            "pipeline_configuration_versions.pipeline_configuration_version_id",
            ondelete="CASCADE",
        )
    )
    pipeline_id: Mapped[str] = mapped_column(
        ForeignKey("pipelines.pipeline_id", ondelete="CASCADE")
    )
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    status: Mapped[ExecutionStatus] = mapped_column(StatusColumn(ExecutionStatus, 16))
    pipeline_input: Mapped[dict[str, Any]] = mapped_column(JSON)
    pipeline_input_summary: Mapped[str] = mapped_column(Text)
    pipeline_output: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pipeline_output_summary: Mapped[str | None] = mapped_column(Text)
    pipeline_output_file_uri: Mapped[str | None] = mapped_column(String(1024))
    # The object-store key behind `pipeline_output_file_uri` (presigned downloads need it).
    output_storage_key: Mapped[str | None] = mapped_column(String(1024))
    output_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    progress_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Which worker attempt runs it: its writes are conditional on still being the runner.
    runner_id: Mapped[str | None] = mapped_column(String(64))
    current_step: Mapped[int | None] = mapped_column(Integer)
    total_steps: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
