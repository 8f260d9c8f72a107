from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from moderately.api.deps import PrincipalDep, SessionDep, paging
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.audit_logs import AuditLogPublic, AuditLogSort
from moderately.schemas.base import Paginated
from moderately.services import audit_logs
from moderately.services.audit import RESOURCE_TYPES
from moderately.services.paging import PageParams

router = APIRouter(prefix="/audit-logs", tags=["Audit Logs"], route_class=BoundedJSONRoute)

Paging = Annotated[PageParams, Depends(paging(AuditLogSort))]
Filters = Annotated[audit_logs.AuditLogFilters, Query()]


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
    resource_type = audit_logs.entity_type(entity_type)
    filters = filters.model_copy(update={"resource_type": resource_type, "resource_id": entity_id})
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
    filters = filters.model_copy(update={"user_id": user_id})
    return await audit_logs.list_entries(
        session, principal=principal, params=params, filters=filters
    )
