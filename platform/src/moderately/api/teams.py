from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from moderately.api.deps import PrincipalDep, SessionDep, StoreDep, paging
from moderately.api.errors import error_responses
from moderately.api.extensions import TEAM_DELETE, marked
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.base import DeleteResult, Paginated
from moderately.schemas.entities import TeamCreate, TeamPublic, TeamSort, TeamUpdate
from moderately.services import teams
from moderately.services.paging import PageParams

router = APIRouter(prefix="/teams", tags=["Teams"], route_class=BoundedJSONRoute)

TeamId = Annotated[str, Path(alias="teamId")]


@router.get("", response_model=Paginated[TeamPublic], responses=error_responses(400, 403))
async def list_teams(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Depends(paging(TeamSort))],
    filters: Annotated[teams.TeamFilters, Query()],
) -> Any:
    return await teams.list_teams(session, principal=principal, params=params, filters=filters)


# 200, not 201: the OpenAPI document says so for this one create.
@router.post(
    "", status_code=200, response_model=TeamPublic, responses=error_responses(400, 403, 409)
)
async def create_team(session: SessionDep, principal: PrincipalDep, body: TeamCreate) -> Any:
    return await teams.create_team(
        session, principal=principal, name=body.name, description=body.description
    )


@router.get("/{teamId}", response_model=TeamPublic, responses=error_responses(400, 403, 404))
async def retrieve_team(session: SessionDep, principal: PrincipalDep, team_id: TeamId) -> Any:
    return await teams.get_team(session, principal=principal, team_id=team_id)


@router.patch("/{teamId}", response_model=TeamPublic, responses=error_responses(400, 403, 404))
async def update_team(
    session: SessionDep, principal: PrincipalDep, team_id: TeamId, body: TeamUpdate
) -> Any:
    changes = body.changes(not_nullable=("name",))
    return await teams.update_team(session, principal=principal, team_id=team_id, changes=changes)


@router.delete(
    "/{teamId}",
    response_model=DeleteResult,
    responses=error_responses(400, 403, 404),
    openapi_extra=marked(TEAM_DELETE),
)
async def delete_team(
    session: SessionDep, principal: PrincipalDep, storage: StoreDep, team_id: TeamId
) -> Any:
    """Admin only; deletes everything the team owns, stored files included."""
    await teams.delete_team(session, principal=principal, storage=storage, team_id=team_id)
    return DeleteResult(message="team deleted")
