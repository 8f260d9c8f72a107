"""Audit logs resource: who created, changed, deleted or ran what in the team (admins only)."""

from datetime import datetime, timezone
from typing import List, Optional, Union

from typing_extensions import Unpack

from ... import _io_async
from ..._base_client import RequestOptions, list_query, path_param
from ...types.audit_log import AuditLog
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource

__all__ = ["AsyncAuditLogs"]

_PATH = "/audit-logs"
When = Union[str, datetime]


def _when(value: Optional[When]) -> Optional[str]:
    """A bound of a date range as the server reads it (ISO 8601 with an offset; naive
    datetimes are taken as UTC)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    return value


class AsyncAuditLogs(AsyncBaseResource):
    """Read the team's audit log: one entry per create, update, delete, membership change,
    execution status move and admin use of an API token. Only admins of the team may read it.

    Example::

        page = await client.audit_logs.list(resource_type="agent", action="update")
        for entry in page["items"]:
            print(entry.created_at, entry.user_id, entry.event_type, entry.changes)
        history = await client.audit_logs.list_for_entity("pipeline_execution", execution_id)
        done_by = await client.audit_logs.list_for_user(user_id, start_date="2025-01-01T00:00:00Z")
    """

    @_io_async.paginated
    async def list(
        self,
        *,
        team_id: Optional[str] = None,
        user_id: Optional[str] = None,
        api_token_id: Optional[str] = None,
        resource_type: Optional[str] = None,
        resource_id: Optional[str] = None,
        event_type: Optional[str] = None,
        action: Optional[str] = None,
        start_date: Optional[When] = None,
        end_date: Optional[When] = None,
        user_ids: Optional[List[str]] = None,
        api_token_ids: Optional[List[str]] = None,
        resource_ids: Optional[List[str]] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: Optional[str] = None,
        order_direction: str = "asc",
        **options: Unpack[RequestOptions],
    ) -> AsyncPage[AuditLog]:
        """List audit log entries with pagination; every given filter applies.

        Args:
            team_id: The team whose log to read; defaults to the API key's team.
            user_id: Only what this user did.
            api_token_id: Only what was done with this API token.
            resource_type: Only entries about this kind of resource (e.g. ``"agent"``).
            resource_id: Only entries about this resource.
            event_type: Only this event (e.g. ``"agent.updated"``).
            action: Only this action: ``create``, ``read``, ``update``, ``delete``,
                ``execute``, ``export`` or ``import``.
            start_date: Only entries at or after this time (ISO 8601 string or datetime).
            end_date: Only entries at or before this time.
            user_ids: Only what one of these users did.
            api_token_ids: Only what was done with one of these API tokens.
            resource_ids: Only entries about one of these resources.
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-1000). Defaults to 10.
            order_by: "created_at", "event_type", "resource_type" or "action"; the server
                sorts by "createdAt" when not given.
            order_direction: Sort direction ("asc" or "desc"). Defaults to "asc".

        Raises:
            PermissionDeniedError: If the API key is not an admin's admin key of the team, or
                ``team_id`` names another team.

        Wire: ``GET /audit-logs``
        """
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            teamId=team_id,
            userId=user_id,
            apiTokenId=api_token_id,
            resourceType=resource_type,
            resourceId=resource_id,
            eventType=event_type,
            action=action,
            startDate=_when(start_date),
            endDate=_when(end_date),
            userIds=user_ids,
            apiTokenIds=api_token_ids,
            resourceIds=resource_ids,
        )
        return await self._get_page(_PATH, AuditLog, query=query, options=options)

    async def retrieve(self, audit_log_id: str, **options: Unpack[RequestOptions]) -> AuditLog:
        """Retrieve one audit log entry by ID.

        Args:
            audit_log_id: The ID of the entry.

        Raises:
            NotFoundError: If the entry doesn't exist (or belongs to another team).
            PermissionDeniedError: If the API key is not an admin's admin key of the team.

        Wire: ``GET /audit-logs/{auditLogId}``
        """
        path = f"{_PATH}/{path_param(audit_log_id, 'audit_log_id')}"
        return await self._get(path, AuditLog, options=options)

    @_io_async.paginated
    async def list_for_entity(
        self,
        entity_type: str,
        entity_id: str,
        *,
        user_id: Optional[str] = None,
        event_type: Optional[str] = None,
        action: Optional[str] = None,
        start_date: Optional[When] = None,
        end_date: Optional[When] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: Optional[str] = None,
        order_direction: str = "asc",
        **options: Unpack[RequestOptions],
    ) -> AsyncPage[AuditLog]:
        """The history of one resource, with pagination.

        Args:
            entity_type: The kind of resource, as entries name it: ``"agent"``,
                ``"pipeline_execution"``, ``"team_user"``, ...
            entity_id: The resource's ID.
            user_id: Only what this user did.
            event_type: Only this event.
            action: Only this action.
            start_date: Only entries at or after this time (ISO 8601 string or datetime).
            end_date: Only entries at or before this time.
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-1000). Defaults to 10.
            order_by: "created_at", "event_type", "resource_type" or "action".
            order_direction: Sort direction ("asc" or "desc"). Defaults to "asc".

        Raises:
            ValidationError: If the log never records ``entity_type``.
            PermissionDeniedError: If the API key is not an admin's admin key of the team.

        Wire: ``GET /audit-logs/entity/{entityType}/{entityId}``
        """
        path = (
            f"{_PATH}/entity/{path_param(entity_type, 'entity_type')}/"
            f"{path_param(entity_id, 'entity_id')}"
        )
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            userId=user_id,
            eventType=event_type,
            action=action,
            startDate=_when(start_date),
            endDate=_when(end_date),
        )
        return await self._get_page(path, AuditLog, query=query, options=options)

    @_io_async.paginated
    async def list_for_user(
        self,
        user_id: str,
        *,
        resource_type: Optional[str] = None,
        resource_id: Optional[str] = None,
        event_type: Optional[str] = None,
        action: Optional[str] = None,
        start_date: Optional[When] = None,
        end_date: Optional[When] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: Optional[str] = None,
        order_direction: str = "asc",
        **options: Unpack[RequestOptions],
    ) -> AsyncPage[AuditLog]:
        """What one user did in the team, with pagination.

        Args:
            user_id: The acting user's ID.
            resource_type: Only entries about this kind of resource.
            resource_id: Only entries about this resource.
            event_type: Only this event.
            action: Only this action.
            start_date: Only entries at or after this time (ISO 8601 string or datetime).
            end_date: Only entries at or before this time.
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-1000). Defaults to 10.
            order_by: "created_at", "event_type", "resource_type" or "action".
            order_direction: Sort direction ("asc" or "desc"). Defaults to "asc".

        Raises:
            PermissionDeniedError: If the API key is not an admin's admin key of the team.

        Wire: ``GET /audit-logs/user/{userId}``
        """
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            resourceType=resource_type,
            resourceId=resource_id,
            eventType=event_type,
            action=action,
            startDate=_when(start_date),
            endDate=_when(end_date),
        )
        path = f"{_PATH}/user/{path_param(user_id, 'user_id')}"
        return await self._get_page(path, AuditLog, query=query, options=options)
