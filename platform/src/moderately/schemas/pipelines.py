"""Request and response models of pipelines, configuration versions and executions.

Configuration documents are stored verbatim: the models take any JSON object and the services
apply the engine's structural rules, answering 400 with the report's errors.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from moderately.schemas.base import (
    NO_NUL,
    Description,
    IdRef,
    InputTimestamp,
    Name,
    RequestModel,
    ResponseModel,
    Timestamp,
)
from moderately.services.paging import split_values
from moderately.statuses import ExecutionStatus, VersionStatus

# `statuses` filters: repeated keys, comma lists or both, each value an enum member.
VersionStatuses = Annotated[list[VersionStatus] | None, BeforeValidator(split_values)]
ExecutionStatuses = Annotated[list[ExecutionStatus] | None, BeforeValidator(split_values)]
Summary = Annotated[str, Field(max_length=1000, pattern=NO_NUL)]
MAX_STEPS = 2**31 - 1  # the columns are 32-bit integers


class PipelineSort(StrEnum):
    name = "name"
    created_at = "createdAt"
    updated_at = "updatedAt"


class VersionSort(StrEnum):
    version = "version"
    created_at = "createdAt"
    updated_at = "updatedAt"


class ExecutionSort(StrEnum):
    created_at = "createdAt"
    updated_at = "updatedAt"
    started_at = "startedAt"


# ---- pipelines ----


class PipelinePublic(ResponseModel):
    pipeline_id: str
    team_id: str
    name: str
    description: str | None
    created_at: Timestamp
    updated_at: Timestamp
    last_run_at: Timestamp | None = Field(description="createdAt of the latest execution")
    total_runs: int = Field(description="executions of any of its configuration versions")
    successful_runs: int = Field(description="those completed")
    success_rate: float = Field(description="percentage, 0-100 (0 without runs)")


class PipelineCreate(RequestModel):
    team_id: IdRef | None = Field(
        default=None,
        description="Defaults to the single teamIds query value, else the token's team.",
    )
    name: Name
    description: Description | None = None


class PipelineUpdate(RequestModel):
    name: Name | None = None
    description: Description | None = None


# ---- configuration versions ----


class VersionPublic(ResponseModel):
    pipeline_configuration_version_id: str
    pipeline_id: str
    configuration: dict[str, Any]
    version: int = Field(description="per-pipeline sequence: highest + 1, starting at 1")
    status: VersionStatus
    created_at: Timestamp
    updated_at: Timestamp


class VersionCreate(RequestModel):
    pipeline_id: IdRef
    configuration: dict[str, Any] = Field(
        description="The configuration document; structural rules apply"
    )
    status: VersionStatus = VersionStatus.DRAFT


class VersionUpdate(RequestModel):
    configuration: dict[str, Any] | None = Field(
        default=None, description="Refused (400) on the current version"
    )
    status: VersionStatus | None = Field(
        default=None, description="current while another version is current: 409"
    )


class ValidateRequest(RequestModel):
    configuration: dict[str, Any]


class ValidationResult(ResponseModel):
    """An invalid document is still a 200 with `valid: false`."""

    valid: bool
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None


# ---- executions ----


class ExecutionPublic(ResponseModel):
    pipeline_execution_id: str
    pipeline_configuration_version_id: str
    pipeline_id: str
    pipeline_input: dict[str, Any]
    pipeline_input_summary: str
    pipeline_output: dict[str, Any] | None = Field(
        description="Inline output; null when stored in the object store (see "
        "pipelineOutputFileUri and GET .../output)"
    )
    pipeline_output_summary: str | None
    pipeline_output_file_uri: str | None
    status: ExecutionStatus
    progress_data: dict[str, Any]
    current_step: int | None
    total_steps: int | None
    created_at: Timestamp
    updated_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None
    failed_at: Timestamp | None
    cancelled_at: Timestamp | None
    paused_at: Timestamp | None


class ExecutionCreate(RequestModel):
    pipeline_configuration_version_id: IdRef
    pipeline_input: dict[str, Any] = Field(description="input block id -> value")
    pipeline_input_summary: Summary
    current_step: int | None = Field(default=None, ge=0, le=MAX_STEPS)
    total_steps: int | None = Field(default=None, ge=1, le=MAX_STEPS)


class ExecutionUpdate(RequestModel):
    pipeline_output: dict[str, Any] | None = None
    pipeline_output_summary: Summary | None = None
    status: ExecutionStatus | None = None
    progress_data: dict[str, Any] | None = None
    current_step: int | None = Field(default=None, ge=0, le=MAX_STEPS)
    total_steps: int | None = Field(default=None, ge=1, le=MAX_STEPS)
    started_at: InputTimestamp | None = None
    completed_at: InputTimestamp | None = None
    failed_at: InputTimestamp | None = None
    cancelled_at: InputTimestamp | None = None
    paused_at: InputTimestamp | None = None


class CancelRequest(RequestModel):
    reason: Annotated[str, Field(max_length=500, pattern=NO_NUL)] | None = None


class InlineOutput(ResponseModel):
    type: Literal["inline"] = "inline"
    data: dict[str, Any]
    summary: str | None


class StoredOutputMetadata(ResponseModel):
    file_size_bytes: int | None
    compression_type: Literal["gzip", "none"] | None
    file_type: Literal["json"]
    output_summary: str | None


class StoredOutput(ResponseModel):
    type: Literal["s3"] = "s3"
    download_url: str = Field(description="Self-authenticating GET (presigned or signed token)")
    expires_at: Timestamp
    metadata: StoredOutputMetadata


ExecutionOutput = Annotated[InlineOutput | StoredOutput, Field(discriminator="type")]
