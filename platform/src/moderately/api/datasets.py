from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from moderately.api.deps import (
    JobsDep,
    PrincipalDep,
    SessionDep,
    StoreDep,
    TeamIdsQuery,
    paging,
)
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.base import DeleteResult, Paginated
from moderately.schemas.datasets import DatasetCreate, DatasetPublic, DatasetSort, DatasetUpdate
from moderately.services import datasets
from moderately.services.paging import PageParams

router = APIRouter(prefix="/datasets", tags=["Datasets"], route_class=BoundedJSONRoute)

DatasetId = Annotated[str, Path(alias="datasetId")]


@router.get("", response_model=Paginated[DatasetPublic], responses=error_responses(400, 403))
async def list_datasets(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Depends(paging(DatasetSort))],
    filters: Annotated[datasets.DatasetFilters, Query()],
) -> Any:
    return await datasets.list_datasets(
        session, principal=principal, params=params, filters=filters
    )


@router.post(
    "", status_code=201, response_model=DatasetPublic, responses=error_responses(400, 403, 409)
)
async def create_dataset(
    session: SessionDep,
    principal: PrincipalDep,
    jobs: JobsDep,
    body: DatasetCreate,
    team_ids: TeamIdsQuery = None,
) -> Any:
    """409 (X-Should-Retry: false) when the team has a dataset of that name."""
    return await datasets.create_dataset(
        session,
        principal=principal,
        jobs=jobs,
        name=body.name,
        description=body.description,
        team_id=body.team_id,
        request_team_ids=team_ids or (),
        should_process=body.should_process,
    )


@router.get("/{datasetId}", response_model=DatasetPublic, responses=error_responses(400, 403, 404))
async def retrieve_dataset(
    session: SessionDep, principal: PrincipalDep, dataset_id: DatasetId
) -> Any:
    return await datasets.get_dataset(session, principal=principal, dataset_id=dataset_id)


@router.patch(
    "/{datasetId}", response_model=DatasetPublic, responses=error_responses(400, 403, 404, 409)
)
async def update_dataset(
    session: SessionDep,
    principal: PrincipalDep,
    jobs: JobsDep,
    dataset_id: DatasetId,
    body: DatasetUpdate,
) -> Any:
    """`shouldProcess: true` queues processing (processingStatus in_progress, then completed or
    failed with processingError and processingReport)."""
    changes = body.changes(not_nullable=("name", "should_process"))
    return await datasets.update_dataset(
        session, principal=principal, jobs=jobs, dataset_id=dataset_id, changes=changes
    )


@router.delete(
    "/{datasetId}", response_model=DeleteResult, responses=error_responses(400, 403, 404)
)
async def delete_dataset(
    session: SessionDep, principal: PrincipalDep, storage: StoreDep, dataset_id: DatasetId
) -> Any:
    """Deletes the data and schema versions and the stored data too; linked files stay, unlinked."""
    await datasets.delete_dataset(
        session, principal=principal, storage=storage, dataset_id=dataset_id
    )
    return DeleteResult(message="dataset deleted")
