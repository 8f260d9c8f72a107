from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from moderately.api.deps import PrincipalDep, SessionDep, paging
from moderately.api.errors import error_responses
from moderately.api.extensions import USER_TEAMS, marked
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.base import Paginated
from moderately.schemas.entities import TeamPublic, TeamSort, UserPublic, UserSort, UserUpdate
from moderately.services import users
from moderately.services.paging import PageParams

router = APIRouter(prefix="/users", tags=["Users"], route_class=BoundedJSONRoute)

UserId = Annotated[str, Path(alias="userId")]


@router.get("", response_model=Paginated[UserPublic], responses=error_responses(400, 403))
async def list_users(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Depends(paging(UserSort))],
    filters: Annotated[users.UserFilters, Query()],
) -> Any:
    return await users.list_users(session, principal=principal, params=params, filters=filters)


@router.get("/{userId}", response_model=UserPublic, responses=error_responses(400, 403, 404))
async def retrieve_user(session: SessionDep, principal: PrincipalDep, user_id: UserId) -> Any:
    return await users.get_user(session, principal=principal, user_id=user_id)


@router.patch("/{userId}", response_model=UserPublic, responses=error_responses(400, 403, 404))
async def update_user(
    session: SessionDep, principal: PrincipalDep, user_id: UserId, body: UserUpdate
) -> Any:
    """Your own profile only; `nickname: null` clears the nickname."""
    changes = body.changes(not_nullable=("full_name",))
    return await users.update_user(session, principal=principal, user_id=user_id, changes=changes)


@router.get(
    "/{userId}/teams",
    response_model=Paginated[TeamPublic],
    responses=error_responses(400, 403, 404),
    openapi_extra=marked(USER_TEAMS),
)
async def list_user_teams(
    session: SessionDep,
    principal: PrincipalDep,
    user_id: UserId,
    params: Annotated[PageParams, Depends(paging(TeamSort))],
) -> Any:
    """The user's teams that you share with them."""
    return await users.list_user_teams(session, principal=principal, user_id=user_id, params=params)
