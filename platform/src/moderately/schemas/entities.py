"""Request and response models of the identity entities and agents."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field

from moderately.schemas.base import (
    NO_NUL,
    Description,
    IdRef,
    InputTimestamp,
    LongText,
    Name,
    RequestModel,
    ResponseModel,
    Timestamp,
)
from moderately.services.api_tokens import CreatedToken, TokenDetail, TokenSummary
from moderately.statuses import UploadStatus

TokenRole = Literal["member", "admin", "readonly"]
MemberRole = Literal["admin", "member"]


class Direction(StrEnum):
    asc = "asc"
    desc = "desc"


# ---- health and authentication ----


class HealthPublic(ResponseModel):
    status: str
    version: str
    extensions: list[str] = Field(
        description="The extensions of the published API this server serves (none when the "
        "operator turned them off)"
    )


class WhoAmIPublic(ResponseModel):
    user_id: str


# ---- users ----


class UserSort(StrEnum):
    created_at = "createdAt"
    full_name = "fullName"


class UserPublic(ResponseModel):
    user_id: str
    full_name: str
    # Omitted when unset, as in the OpenAPI example.
    nickname: str | None = Field(default=None, exclude_if=lambda v: v is None)
    created_at: Timestamp
    updated_at: Timestamp


class UserUpdate(RequestModel):
    full_name: Name | None = None
    nickname: Name | None = Field(default=None, description="null clears the nickname")


# ---- teams ----


class TeamSort(StrEnum):
    created_at = "createdAt"
    updated_at = "updatedAt"
    name = "name"


class TeamPublic(ResponseModel):
    team_id: str
    name: str
    description: str | None = None
    created_at: Timestamp
    updated_at: Timestamp


class TeamCreate(RequestModel):
    name: Name
    description: LongText | None = None


class TeamUpdate(RequestModel):
    name: Name | None = None
    description: LongText | None = None


# ---- team users ----


class TeamUserSort(StrEnum):
    name = "name"
    role = "role"
    created_at = "createdAt"
    updated_at = "updatedAt"


class TeamUserPublic(ResponseModel):
    team_user_id: str
    team_id: str
    user_id: str
    role: MemberRole
    is_default: bool
    email: str | None
    created_at: Timestamp
    updated_at: Timestamp


class TeamUserUpdate(RequestModel):
    is_default: bool | None = None
    role: MemberRole | None = None


# ---- agents ----


class AgentSort(StrEnum):
    name = "name"
    created_at = "createdAt"
    updated_at = "updatedAt"


class AgentPublic(ResponseModel):
    agent_id: str
    team_id: str
    name: str
    description: str | None
    created_at: Timestamp
    updated_at: Timestamp
    # Run metrics, on every response.
    last_run_at: Timestamp | None = Field(description="startedAt of the latest execution")
    total_runs: int = Field(description="executions of any of its configuration versions")
    successful_runs: int = Field(description="those completed")
    success_rate: float = Field(description="percentage, 0-100 (0 without runs)")


class AgentCreate(RequestModel):
    team_id: IdRef | None = Field(
        default=None,
        description="Defaults to the single teamIds query value, else the token's team.",
    )
    name: Name
    description: Description | None = None


class AgentUpdate(RequestModel):
    name: Name | None = None
    description: Description | None = None


# ---- API tokens ----


class ApiTokenSort(StrEnum):
    created_at = "createdAt"
    name = "name"


class ApiTokenCreate(RequestModel):
    team_id: IdRef | None = Field(
        default=None,
        description="Defaults to the single teamIds query value, else the token's team.",
    )
    name: Name
    role: TokenRole = "member"
    expires_at: InputTimestamp | None = None


class ApiTokenUpdate(RequestModel):
    name: Name | None = None
    expires_at: InputTimestamp | None = None
    is_active: bool | None = None


class ApiTokenCreated(ResponseModel):
    token: str = Field(description="The full secret, shown only in this response.")
    token_id: str
    name: str
    role: TokenRole
    team_id: str
    expires_at: Timestamp | None
    created_at: Timestamp

    @classmethod
    def of(cls, created: CreatedToken) -> ApiTokenCreated:
        return cls.model_validate({**_token_fields(created.token), "token": created.secret})


class _ApiTokenBase(ResponseModel):
    token_id: str
    team_id: str
    name: str
    token_prefix: str
    last4: str
    role: TokenRole
    expires_at: Timestamp | None
    last_used_at: Timestamp | None
    is_active: bool
    created_at: Timestamp
    updated_at: Timestamp


class ApiTokenPublic(_ApiTokenBase):
    created_by_user_id: str
    usage7_days: int

    @classmethod
    def of(cls, summary: TokenSummary) -> ApiTokenPublic:
        return cls.model_validate(
            {**_token_fields(summary.token), "usage7_days": summary.usage_7_days}
        )


class TokenCreator(ResponseModel):
    user_id: str
    full_name: str
    nickname: str | None


class UsageStats(ResponseModel):
    total_requests: int
    requests_last24_hours: int
    requests_last7_days: int
    requests_last30_days: int


class ApiTokenDetail(_ApiTokenBase):
    created_by: TokenCreator | None
    usage_stats: UsageStats

    @classmethod
    def of(cls, detail: TokenDetail) -> ApiTokenDetail:
        return cls.model_validate(
            {
                **_token_fields(detail.token),
                "created_by": detail.created_by,
                "usage_stats": detail.usage_stats,
            }
        )


class ApiTokenUsagePublic(ResponseModel):
    total_requests: int
    requests_by_endpoint: dict[str, int]
    requests_by_method: dict[str, int]
    average_response_time: float = Field(description="milliseconds")
    error_rate: float = Field(description="percent of requests answered with 4xx/5xx")


def _token_fields(token: Any) -> dict[str, Any]:
    return {name: getattr(token, name) for name in _TOKEN_COLUMNS}


_TOKEN_COLUMNS = (
    "token_id",
    "team_id",
    "name",
    "token_prefix",
    "last4",
    "role",
    "created_by_user_id",
    "expires_at",
    "last_used_at",
    "is_active",
    "created_at",
    "updated_at",
)


# ---- files ----

# A media type as a header carries it: "type/subtype", optionally "; parameters", printable ASCII.
MIME_TYPE_PATTERN = r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+( *;[ -~]*)?$"
# SHA-256 as 64 hex characters, optionally prefixed "sha256:"; any case.
FILE_HASH_PATTERN = r"^([Ss][Hh][Aa]256:)?[0-9A-Fa-f]{64}$"
FileName = Annotated[str, Field(min_length=1, max_length=1000, pattern=NO_NUL)]
MimeType = Annotated[str, Field(min_length=1, max_length=255, pattern=MIME_TYPE_PATTERN)]
FileHash = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=FILE_HASH_PATTERN,
        description="SHA-256 of the content: 64 hex characters, optionally `sha256:`-prefixed",
    ),
]
Metadata = dict[str, Any]


class FileSort(StrEnum):
    file_name = "fileName"
    file_size = "fileSize"
    created_at = "createdAt"
    updated_at = "updatedAt"


class UploadStatusFilter(StrEnum):
    """The three stored values, and the spellings 0.2.7 documents for them."""

    pending = "pending"
    completed = "completed"
    failed = "failed"
    processing = "processing"
    ready = "ready"
    uploaded = "uploaded"
    error = "error"


class FilePublic(ResponseModel):
    file_id: str
    team_id: str
    file_name: str
    original_name: str | None
    file_size: int = Field(ge=0)
    mime_type: str
    file_hash: str | None = Field(
        description="As sent by the client; null until known (it may be given first at complete)"
    )
    upload_status: UploadStatus
    uploaded_by: str | None
    metadata: Metadata = Field(
        default_factory=dict, validation_alias=AliasChoices("metadata_", "metadata")
    )
    dataset_id: str | None
    # Omitted unless the upload failed.
    failure_reason: str | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="Why the upload failed (present only when uploadStatus is failed)",
    )
    created_at: Timestamp
    updated_at: Timestamp


class FileUploadUrlCreate(RequestModel):
    file_name: FileName = Field(validation_alias=AliasChoices("fileName", "filename"))
    file_size: int = Field(ge=0, description="Exact size in bytes; the upload URL accepts no other")
    file_hash: FileHash | None = Field(
        default=None, description="Optional here; required at complete if not given now"
    )
    mime_type: MimeType | None = Field(default=None, description="Default application/octet-stream")
    team_id: IdRef | None = Field(
        default=None,
        description="Defaults to the single teamIds query value, else the token's team.",
    )
    dataset_id: IdRef | None = None
    metadata: Metadata | None = None
    sign_checksum: bool = Field(
        default=False,
        description="Extension: bind fileHash into the upload URL, so the store itself refuses "
        "other bytes and complete need not read them again. The PUT must then carry every "
        "header of uploadHeaders. Ignored without fileHash.",
    )


class FileUploadUrlPublic(ResponseModel):
    file: FilePublic
    upload_url: str = Field(json_schema_extra={"format": "uri"})
    expires_at: Timestamp | None
    upload_headers: dict[str, str] = Field(
        description="Extension: headers the PUT must carry (part of the URL's signature)"
    )


class FileComplete(RequestModel):
    file_size: int = Field(ge=0)
    file_hash: FileHash


class FileUpdate(RequestModel):
    file_name: FileName | None = Field(
        default=None, validation_alias=AliasChoices("fileName", "name")
    )
    metadata: Metadata | None = Field(default=None, description="Replaces the metadata")
    dataset_id: IdRef | None = Field(
        default=None, description="A dataset of the file's team; null unlinks"
    )


class FileDownloadPublic(ResponseModel):
    download_url: str = Field(json_schema_extra={"format": "uri"})
    expires_at: Timestamp | None
    file_hash: str | None = Field(
        default=None,
        description="Extension: the file's SHA-256 (as sent, else the verified hex digest), to "
        "check the downloaded bytes against",
    )
    file_size: int | None = Field(
        default=None, ge=0, description="Extension: the size in bytes of what the URL serves"
    )
