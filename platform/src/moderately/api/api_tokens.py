from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AwareDatetime

from moderately.api.deps import FreshUsage, MultiValue, PrincipalDep, SessionDep, paging
from moderately.api.errors import error_responses
from moderately.api.idempotency import SECRET_RESOURCE_ID
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.base import Paginated
from moderately.schemas.entities import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenDetail,
    ApiTokenPublic,
    ApiTokenSort,
    ApiTokenUpdate,
    ApiTokenUsagePublic,
)
from moderately.services import api_tokens
from moderately.services.paging import Page, PageParams

router = APIRouter(prefix="/api-tokens", tags=["API Tokens"], route_class=BoundedJSONRoute)

TokenId = Annotated[str, Path(alias="tokenId")]
TeamIdsFallback = Annotated[
    MultiValue, Query(alias="teamIds", description="Used when teamId is absent (one team).")
]


@router.post(
    "", status_code=201, response_model=ApiTokenCreated, responses=error_responses(400, 403, 409)
)
async def create_api_token(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    body: ApiTokenCreate,
    team_ids: TeamIdsFallback = None,
) -> Any:
    """Admins of the team only. The secret is in this response and nowhere else, ever: a
    repeat with the same `Idempotency-Key` answers 409 `IDEMPOTENCY_KEY_REUSED_SECRET` naming
    the token created, without the secret."""
    created = await api_tokens.create_token(
        session,
        principal=principal,
        name=body.name,
        role=body.role,
        expires_at=body.expires_at,
        team_id=body.team_id,
        request_team_ids=team_ids or (),
    )
    setattr(request.state, SECRET_RESOURCE_ID, created.token.token_id)
    return ApiTokenCreated.of(created)


@router.get(
    "",
    response_model=Paginated[ApiTokenPublic],
    responses=error_responses(400, 403),
    dependencies=[FreshUsage],
)
async def list_api_tokens(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Depends(paging(ApiTokenSort))],
    filters: Annotated[api_tokens.ApiTokenFilters, Query()],
) -> Any:
    page = await api_tokens.list_tokens(
        session, principal=principal, params=params, filters=filters
    )
    return Page([ApiTokenPublic.of(item) for item in page.items], page.pagination)


@router.get(
    "/{tokenId}",
    response_model=ApiTokenDetail,
    responses=error_responses(400, 403, 404),
    dependencies=[FreshUsage],
)
async def retrieve_api_token(
    session: SessionDep, principal: PrincipalDep, token_id: TokenId
) -> Any:
    detail = await api_tokens.get_token_detail(session, principal=principal, token_id=token_id)
    return ApiTokenDetail.of(detail)


@router.patch(
    "/{tokenId}",
    response_model=ApiTokenPublic,
    responses=error_responses(400, 403, 404),
    dependencies=[FreshUsage],
)
async def update_api_token(
    session: SessionDep, principal: PrincipalDep, token_id: TokenId, body: ApiTokenUpdate
) -> Any:
    changes = body.changes(not_nullable=("name", "is_active"))
    summary = await api_tokens.update_token(
        session, principal=principal, token_id=token_id, changes=changes
    )
    return ApiTokenPublic.of(summary)


@router.delete(
    "/{tokenId}",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 403, 404),
)
async def delete_api_token(session: SessionDep, principal: PrincipalDep, token_id: TokenId) -> None:
    """Takes effect immediately."""
    await api_tokens.delete_token(session, principal=principal, token_id=token_id)


@router.get(
    "/{tokenId}/usage",
    response_model=ApiTokenUsagePublic,
    responses=error_responses(400, 403, 404),
    dependencies=[FreshUsage],
)
async def get_api_token_usage(
    session: SessionDep,
    principal: PrincipalDep,
    token_id: TokenId,
    start_date: Annotated[AwareDatetime | None, Query(alias="startDate")] = None,
    end_date: Annotated[AwareDatetime | None, Query(alias="endDate")] = None,
    endpoint: Annotated[
        str | None, Query(description="route template, e.g. /agents/{agentId}")
    ] = None,
    method: Annotated[str | None, Query()] = None,
) -> Any:
    return await api_tokens.token_usage(
        session,
        principal=principal,
        token_id=token_id,
        start=start_date,
        end=end_date,
        endpoint=endpoint,
        method=method,
    )
