"""Response models of the audit log (services/audit.py writes it, services/audit_logs.py reads)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import AliasChoices, Field

from moderately.schemas.base import ResponseModel, Timestamp

AuditAction = Literal["create", "read", "update", "delete", "execute", "export", "import"]


class AuditLogSort(StrEnum):
    created_at = "createdAt"
    event_type = "eventType"
    resource_type = "resourceType"
    action = "action"


class AuditLogMetadata(ResponseModel):
    """Where the change came from: the request (id, client address, user agent), or
    `additionalInfo.actor == "system"` for the server's own work (jobs, the operator)."""

    ip_address: str | None = Field(default=None, exclude_if=lambda v: v is None)
    user_agent: str | None = Field(default=None, exclude_if=lambda v: v is None)
    correlation_id: str | None = Field(default=None, exclude_if=lambda v: v is None)
    request_id: str | None = Field(default=None, exclude_if=lambda v: v is None)
    additional_info: dict[str, Any] | None = Field(default=None, exclude_if=lambda v: v is None)


class AuditLogPublic(ResponseModel):
    audit_log_id: str
    team_id: str | None
    user_id: str | None = Field(description="The acting user; null for the server's own work")
    api_token_id: str | None = Field(description="The API token the request used")
    session_id: str | None = Field(description="Always null: the API has no login sessions")
    event_type: str = Field(
        min_length=1,
        max_length=100,
        description="`<resourceType>.created|updated|deleted`; an execution's status move "
        "`<resourceType>.<status>`; a dataset's processing move `dataset.processing_<status>`; "
        "`api_token.used` for a request whose token passed an admin check",
    )
    resource_type: str = Field(min_length=1, max_length=50, description="e.g. pipeline_execution")
    resource_id: str
    action: AuditAction
    changes: dict[str, Any] | None = Field(
        description="For updates, the names of the changed fields (never their values): "
        '`{"fields": ["name"]}`; null otherwise'
    )
    metadata: AuditLogMetadata | None = Field(validation_alias=AliasChoices("meta", "metadata"))
    created_at: Timestamp
