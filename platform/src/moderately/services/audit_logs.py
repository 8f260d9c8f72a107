"""Reading the audit log (services/audit.py writes it): a team's admins read their team's
entries; nobody reads another team's (its entries are not found, naming its team is 403)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import AuditLog
from moderately.errors import Invalid
from moderately.schemas.audit_logs import AuditAction
from moderately.services.audit import RESOURCE_TYPES
from moderately.services.auth import Principal
from moderately.services.filters import (
    ScopedFilters,
    Values,
    at_or_after,
    at_or_before,
    equal,
    filtered,
    one_of,
)
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.scope import get_scoped

SORT = {
    "createdAt": AuditLog.created_at,
    "eventType": AuditLog.event_type,
    "resourceType": AuditLog.resource_type,
    "action": AuditLog.action,
}


class AuditLogFilters(ScopedFilters):
    """The query filters every audit log list takes: one team's log; given filters all apply."""

    team_column = AuditLog.team_id
    team_id: Annotated[
        str | None,
        Field(alias="teamId", description="The team whose log to read (default: the token's)"),
    ] = None
    user_id: Annotated[str | None, Field(alias="userId"), equal(AuditLog.user_id)] = None
    api_token_id: Annotated[str | None, Field(alias="apiTokenId"), equal(AuditLog.api_token_id)] = (
        None
    )
    resource_type: Annotated[
        str | None, Field(alias="resourceType"), equal(AuditLog.resource_type)
    ] = None
    resource_id: Annotated[str | None, Field(alias="resourceId"), equal(AuditLog.resource_id)] = (
        None
    )
    event_type: Annotated[str | None, Field(alias="eventType"), equal(AuditLog.event_type)] = None
    action: Annotated[AuditAction | None, equal(AuditLog.action)] = None
    start_date: Annotated[
        AwareDatetime | None,
        Field(alias="startDate", description="entries at or after"),
        at_or_after(AuditLog.created_at),
    ] = None
    end_date: Annotated[
        AwareDatetime | None,
        Field(alias="endDate", description="entries at or before"),
        at_or_before(AuditLog.created_at),
    ] = None
    user_ids: Annotated[Values, Field(alias="userIds"), one_of(AuditLog.user_id)] = None
    api_token_ids: Annotated[Values, Field(alias="apiTokenIds"), one_of(AuditLog.api_token_id)] = (
        None
    )
    resource_ids: Annotated[Values, Field(alias="resourceIds"), one_of(AuditLog.resource_id)] = None

    def team(self, principal: Principal) -> str:
        return self.team_id or principal.team_id

    def teams(self, principal: Principal) -> frozenset[str]:
        return frozenset({self.team(principal)})


def entity_type(value: str) -> str:
    """A resource type the log records (`pipeline_execution`), else 400."""
    if value not in RESOURCE_TYPES:
        raise Invalid(
            f"entityType must be one of: {', '.join(sorted(RESOURCE_TYPES))}",
            field="entityType",
            value=value,
        )
    return value


async def list_entries(
    session: AsyncSession, *, principal: Principal, params: PageParams, filters: AuditLogFilters
) -> Page[AuditLog]:
    """Entries of `filters.team_id` (default: the token's team); its admins only."""
    principal.require_admin(filters.team(principal))
    stmt = filtered(select(AuditLog), filters, principal)
    return await paginate(
        session, stmt, params=params, sort_columns=SORT, id_column=AuditLog.audit_log_id
    )


async def get_entry(session: AsyncSession, *, principal: Principal, audit_log_id: str) -> AuditLog:
    entry = await get_scoped(session, AuditLog, audit_log_id, principal)
    principal.require_admin(entry.team_id)
    return entry
