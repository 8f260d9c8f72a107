from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from moderately.api.deps import (
    PrincipalDep,
    SessionDep,
    StoreDep,
    paging,
)
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.base import DeleteResult, Paginated
from moderately.schemas.pipelines import (
    ValidateRequest,
    ValidationResult,
    VersionCreate,
    VersionPublic,
    VersionSort,
    VersionUpdate,
)
from moderately.services import pipelines
from moderately.services.paging import PageParams

router = APIRouter(
    prefix="/pipeline-configuration-versions",
    tags=["Pipeline configuration versions"],
    route_class=BoundedJSONRoute,
)

VersionId = Annotated[str, Path(alias="pipelineConfigurationVersionId")]


@router.post("/validate", response_model=ValidationResult, responses=error_responses(400))
async def validate_configuration(principal: PrincipalDep, body: ValidateRequest) -> Any:
    """Every validation rule; an invalid document answers 200 with `valid: false`
    (400 only when the body has no `configuration` object). Nothing is stored."""
    return pipelines.validation_report(body.configuration)


@router.get("/schema", response_model=dict[str, Any], responses=error_responses(400))
async def get_configuration_schema(principal: PrincipalDep) -> Any:
    """The Draft 7 JSON Schema of the configuration document, generated from the blocks."""
    return pipelines.json_schema()


@router.get("", response_model=Paginated[VersionPublic], responses=error_responses(400, 403))
async def list_pipeline_configuration_versions(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Depends(paging(VersionSort))],
    filters: Annotated[pipelines.PipelineVersionFilters, Query()],
) -> Any:
    return await pipelines.list_versions(
        session, principal=principal, params=params, filters=filters
    )


@router.post(
    "", status_code=201, response_model=VersionPublic, responses=error_responses(400, 403, 404, 409)
)
async def create_pipeline_configuration_version(
    session: SessionDep, principal: PrincipalDep, body: VersionCreate
) -> Any:
    """Structural rules only (400, details = the errors); a second `current` → 409."""
    return await pipelines.create_version(
        session,
        principal=principal,
        pipeline_id=body.pipeline_id,
        configuration=body.configuration,
        status=body.status,
    )


@router.get(
    "/{pipelineConfigurationVersionId}",
    response_model=VersionPublic,
    responses=error_responses(400, 403, 404),
)
async def retrieve_pipeline_configuration_version(
    session: SessionDep, principal: PrincipalDep, version_id: VersionId
) -> Any:
    return await pipelines.get_version(session, principal=principal, version_id=version_id)


@router.patch(
    "/{pipelineConfigurationVersionId}",
    response_model=VersionPublic,
    responses=error_responses(400, 403, 404, 409),
)
async def update_pipeline_configuration_version(
    session: SessionDep, principal: PrincipalDep, version_id: VersionId, body: VersionUpdate
) -> Any:
    """A current version's configuration cannot change (400); a second current → 409."""
    changes = body.changes(not_nullable=("configuration", "status"))
    return await pipelines.update_version(
        session, principal=principal, version_id=version_id, changes=changes
    )


@router.delete(
    "/{pipelineConfigurationVersionId}",
    response_model=DeleteResult,
    responses=error_responses(400, 403, 404),
)
async def delete_pipeline_configuration_version(
    session: SessionDep, principal: PrincipalDep, storage: StoreDep, version_id: VersionId
) -> Any:
    """The current version cannot be deleted (400): archive it first. Its executions go too."""
    await pipelines.delete_version(
        session, principal=principal, storage=storage, version_id=version_id
    )
    return DeleteResult(message="pipeline configuration version deleted")


@router.post(
    "/{pipelineConfigurationVersionId}/clone",
    status_code=201,
    response_model=VersionPublic,
    responses=error_responses(400, 403, 404),
)
async def clone_pipeline_configuration_version(
    session: SessionDep, principal: PrincipalDep, version_id: VersionId
) -> Any:
    """A new draft with the next version number and the same configuration."""
    return await pipelines.clone_version(session, principal=principal, version_id=version_id)
