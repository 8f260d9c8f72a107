from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from moderately.api.deps import PrincipalDep, SessionDep, paging
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.base import DeleteResult, Paginated
from moderately.schemas.entities import TeamUserPublic, TeamUserSort, TeamUserUpdate
from moderately.services import team_users
from moderately.services.paging import PageParams

router = APIRouter(prefix="/team-users", tags=["Team Users"], route_class=BoundedJSONRoute)

TeamUserId = Annotated[str, Path(alias="teamUserId")]


@router.get("", response_model=Paginated[TeamUserPublic], responses=error_responses(400, 403))
async def list_team_users(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Depends(paging(TeamUserSort))],
    filters: Annotated[team_users.TeamUserFilters, Query()],
) -> Any:
    return await team_users.list_team_users(
        session, principal=principal, params=params, filters=filters
    )


@router.get(
    "/{teamUserId}", response_model=TeamUserPublic, responses=error_responses(400, 403, 404)
)
async def retrieve_team_user(
    session: SessionDep, principal: PrincipalDep, team_user_id: TeamUserId
) -> Any:
    return await team_users.get_team_user(session, principal=principal, team_user_id=team_user_id)


@router.patch(
    "/{teamUserId}", response_model=TeamUserPublic, responses=error_responses(400, 403, 404)
)
async def update_team_user(
    session: SessionDep, principal: PrincipalDep, team_user_id: TeamUserId, body: TeamUserUpdate
) -> Any:
    """Admins change roles; members may set their own default team."""
    return await team_users.update_team_user(
        session, principal=principal, team_user_id=team_user_id, changes=body.changes()
    )


@router.delete(
    "/{teamUserId}", response_model=DeleteResult, responses=error_responses(400, 403, 404)
)
async def delete_team_user(
    session: SessionDep, principal: PrincipalDep, team_user_id: TeamUserId
) -> Any:
    """Admins only; a team keeps at least one admin (400)."""
    await team_users.delete_team_user(session, principal=principal, team_user_id=team_user_id)
    return DeleteResult(message="team user removed")
