from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime

from moderately.api.deps import MultiValue, PrincipalDep, SessionDep, paging
from moderately.api.errors import error_responses
from moderately.schemas.audit_logs import AuditAction, AuditLogPublic, AuditLogSort
from moderately.schemas.base import Paginated
from moderately.services import audit_logs
from moderately.services.audit import RESOURCE_TYPES
from moderately.services.paging import PageParams

router = APIRouter(prefix="/audit-logs", tags=["Audit Logs"])

Paging = Annotated[PageParams, Depends(paging(AuditLogSort))]


def audit_filters(
    team_id: Annotated[
        str | None,
        Query(alias="teamId", description="The team whose log to read (default: the token's)"),
    ] = None,
    user_id: Annotated[str | None, Query(alias="userId")] = None,
    api_token_id: Annotated[str | None, Query(alias="apiTokenId")] = None,
    resource_type: Annotated[str | None, Query(alias="resourceType")] = None,
    resource_id: Annotated[str | None, Query(alias="resourceId")] = None,
    event_type: Annotated[str | None, Query(alias="eventType")] = None,
    action: AuditAction | None = None,
    start_date: Annotated[
        AwareDatetime | None, Query(alias="startDate", description="entries at or after")
    ] = None,
    end_date: Annotated[
        AwareDatetime | None, Query(alias="endDate", description="entries at or before")
    ] = None,
    user_ids: Annotated[MultiValue, Query(alias="userIds")] = None,
    api_token_ids: Annotated[MultiValue, Query(alias="apiTokenIds")] = None,
    resource_ids: Annotated[MultiValue, Query(alias="resourceIds")] = None,
) -> audit_logs.AuditFilters:
    return audit_logs.AuditFilters(
        team_id=team_id,
        user_id=user_id,
        api_token_id=api_token_id,
        resource_type=resource_type,
        resource_id=resource_id,
        event_type=event_type,
        action=action,
        start=start_date,
        end=end_date,
        user_ids=user_ids or (),
        api_token_ids=api_token_ids or (),
        resource_ids=resource_ids or (),
    )


Filters = Annotated[audit_logs.AuditFilters, Depends(audit_filters)]


@router.get("", response_model=Paginated[AuditLogPublic], responses=error_responses(400, 403))
async def list_audit_logs(
    session: SessionDep, principal: PrincipalDep, params: Paging, filters: Filters
) -> Any:
    """The log of one team (its admins only); every given filter applies."""
    return await audit_logs.list_entries(
        session, principal=principal, params=params, filters=filters
    )


@router.get(
    "/{auditLogId}", response_model=AuditLogPublic, responses=error_responses(400, 403, 404)
)
async def retrieve_audit_log(
    session: SessionDep,
    principal: PrincipalDep,
    audit_log_id: Annotated[str, Path(alias="auditLogId")],
) -> Any:
    return await audit_logs.get_entry(session, principal=principal, audit_log_id=audit_log_id)


@router.get(
    "/entity/{entityType}/{entityId}",
    response_model=Paginated[AuditLogPublic],
    responses=error_responses(400, 403),
)
async def list_audit_logs_for_entity(
    session: SessionDep,
    principal: PrincipalDep,
    params: Paging,
    filters: Filters,
    entity_type: Annotated[
        str,
        Path(
            alias="entityType",
            min_length=1,
            max_length=50,
            description="The resource type, as entries name it",
            json_schema_extra={"enum": sorted(RESOURCE_TYPES)},
        ),
    ],
    entity_id: Annotated[str, Path(alias="entityId")],
) -> Any:
    """The history of one resource (with the other filters; the path's type and id win over
    `resourceType` and `resourceId`)."""
    filters = replace(
        filters, resource_type=audit_logs.entity_type(entity_type), resource_id=entity_id
    )
    return await audit_logs.list_entries(
        session, principal=principal, params=params, filters=filters
    )


@router.get(
    "/user/{userId}", response_model=Paginated[AuditLogPublic], responses=error_responses(400, 403)
)
async def list_audit_logs_for_user(
    session: SessionDep,
    principal: PrincipalDep,
    params: Paging,
    filters: Filters,
    user_id: Annotated[str, Path(alias="userId")],
) -> Any:
    """What one user did in the team (with the other filters; the path's id wins over
    `userId`)."""
    filters = replace(filters, user_id=user_id)
    return await audit_logs.list_entries(
        session, principal=principal, params=params, filters=filters
    )
