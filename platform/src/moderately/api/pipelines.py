from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from moderately.api.deps import (
    PrincipalDep,
    SessionDep,
    StoreDep,
    TeamIdsQuery,
    paging,
)
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.base import DeleteResult, Paginated
from moderately.schemas.pipelines import (
    PipelineCreate,
    PipelinePublic,
    PipelineSort,
    PipelineUpdate,
)
from moderately.services import pipelines
from moderately.services.paging import PageParams

router = APIRouter(prefix="/pipelines", tags=["Pipelines"], route_class=BoundedJSONRoute)

PipelineId = Annotated[str, Path(alias="pipelineId")]


@router.get("", response_model=Paginated[PipelinePublic], responses=error_responses(400, 403))
async def list_pipelines(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Depends(paging(PipelineSort))],
    filters: Annotated[pipelines.PipelineFilters, Query()],
) -> Any:
    return await pipelines.list_pipelines(
        session, principal=principal, params=params, filters=filters
    )


@router.post(
    "", status_code=201, response_model=PipelinePublic, responses=error_responses(400, 403, 409)
)
async def create_pipeline(
    session: SessionDep,
    principal: PrincipalDep,
    body: PipelineCreate,
    team_ids: TeamIdsQuery = None,
) -> Any:
    """409 (X-Should-Retry: false) when the team has a pipeline of that name."""
    return await pipelines.create_pipeline(
        session,
        principal=principal,
        name=body.name,
        description=body.description,
        team_id=body.team_id,
        request_team_ids=team_ids or (),
    )


@router.get(
    "/{pipelineId}", response_model=PipelinePublic, responses=error_responses(400, 403, 404)
)
async def retrieve_pipeline(
    session: SessionDep, principal: PrincipalDep, pipeline_id: PipelineId
) -> Any:
    return await pipelines.get_pipeline(session, principal=principal, pipeline_id=pipeline_id)


@router.patch(
    "/{pipelineId}", response_model=PipelinePublic, responses=error_responses(400, 403, 404, 409)
)
async def update_pipeline(
    session: SessionDep, principal: PrincipalDep, pipeline_id: PipelineId, body: PipelineUpdate
) -> Any:
    changes = body.changes(not_nullable=("name",))
    return await pipelines.update_pipeline(
        session, principal=principal, pipeline_id=pipeline_id, changes=changes
    )


@router.delete(
    "/{pipelineId}", response_model=DeleteResult, responses=error_responses(400, 403, 404)
)
async def delete_pipeline(
    session: SessionDep, principal: PrincipalDep, storage: StoreDep, pipeline_id: PipelineId
) -> Any:
    """Its configuration versions and their executions (and stored outputs) go with it."""
    await pipelines.delete_pipeline(
        session, principal=principal, storage=storage, pipeline_id=pipeline_id
    )
    return DeleteResult(message="pipeline deleted")
