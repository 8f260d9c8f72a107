"""Reading the audit log (services/audit.py writes it): a team's admins read their team's
entries; nobody reads another team's (its entries are not found, naming its team is 403)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import AuditLog
from moderately.errors import Invalid
from moderately.services.audit import ACTIONS, RESOURCE_TYPES
from moderately.services.auth import Principal
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.scope import get_scoped

SORT = {
    "createdAt": AuditLog.created_at,
    "eventType": AuditLog.event_type,
    "resourceType": AuditLog.resource_type,
    "action": AuditLog.action,
}


@dataclass(frozen=True)
class AuditFilters:
    """The query filters every audit log list takes; given filters all apply (AND)."""

    team_id: str | None = None
    user_id: str | None = None
    api_token_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    event_type: str | None = None
    action: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # inclusive
    user_ids: Sequence[str] = ()
    api_token_ids: Sequence[str] = ()
    resource_ids: Sequence[str] = ()

    def apply(self, stmt: Select[AuditLog]) -> Select[AuditLog]:
        equal = {
            AuditLog.user_id: self.user_id,
            AuditLog.api_token_id: self.api_token_id,
            AuditLog.resource_type: self.resource_type,
            AuditLog.resource_id: self.resource_id,
            AuditLog.event_type: self.event_type,
            AuditLog.action: self.action,
        }
        for column, value in equal.items():
            if value is not None:
                stmt = stmt.where(column == value)
        within = {
            AuditLog.user_id: self.user_ids,
            AuditLog.api_token_id: self.api_token_ids,
            AuditLog.resource_id: self.resource_ids,
        }
        for column, values in within.items():
            if values:
                stmt = stmt.where(column.in_(values))
        if self.start is not None:
            stmt = stmt.where(AuditLog.created_at >= self.start)
        if self.end is not None:
            stmt = stmt.where(AuditLog.created_at <= self.end)
        return stmt


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
    session: AsyncSession, *, principal: Principal, params: PageParams, filters: AuditFilters
) -> Page[AuditLog]:
    """Entries of `filters.team_id` (default: the token's team); its admins only."""
    team_id = filters.team_id or principal.token_team_id
    principal.require_admin(team_id)
    if filters.action is not None and filters.action not in ACTIONS:
        raise Invalid(f"action must be one of: {', '.join(ACTIONS)}", field="action")
    stmt = filters.apply(select(AuditLog).where(AuditLog.team_id == team_id))
    return await paginate(
        session, stmt, params=params, sort_columns=SORT, id_column=AuditLog.audit_log_id
    )


async def get_entry(session: AsyncSession, *, principal: Principal, audit_log_id: str) -> AuditLog:
    entry = await get_scoped(session, AuditLog, audit_log_id, principal)
    principal.require_admin(entry.team_id)
    return entry
