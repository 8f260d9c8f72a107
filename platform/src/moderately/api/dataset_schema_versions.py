from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from moderately.api.deps import (
    JobsDep,
    PrincipalDep,
    SessionDep,
    get_database,
    paging,
)
from moderately.api.errors import error_responses
from moderately.api.extensions import DATASET_SCHEMA_INFERENCE, marked
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.db.session import Database
from moderately.schemas.base import Paginated
from moderately.schemas.datasets import (
    SchemaInferPublic,
    SchemaInferRequest,
    SchemaVersionCreate,
    SchemaVersionPublic,
    SchemaVersionUpdate,
    VersionSort,
)
from moderately.services import dataset_schemas
from moderately.services.paging import PageParams

router = APIRouter(
    prefix="/dataset-schema-versions",
    tags=["Dataset Schema Versions"],
    route_class=BoundedJSONRoute,
)

SchemaVersionId = Annotated[str, Path(alias="datasetSchemaVersionId")]


@router.post(
    "/infer",
    response_model=SchemaInferPublic,
    responses=error_responses(400, 403, 404),
    openapi_extra=marked(DATASET_SCHEMA_INFERENCE),
)
async def infer_schema(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    database: Annotated[Database, Depends(get_database)],
    jobs: JobsDep,
    body: SchemaInferRequest,
) -> Any:
    """Columns (types from the values) and parsing options of an uploaded file or a
    data version, read with the server's engine (in a worker process; 503 when none answers in
    time); send them on as a schema version."""
    inferred = await dataset_schemas.infer_schema(
        session,
        principal=principal,
        database=database,
        jobs=jobs,
        wait_seconds=request.app.state.settings.infer_wait_seconds,
        file_id=body.file_id,
        data_version_id=body.dataset_data_version_id,
        parsing_options=body.parsing_options.wire() if body.parsing_options else None,
        sample_rows=body.sample_rows,
    )
    return SchemaInferPublic.model_validate(inferred)


@router.post(
    "",
    status_code=201,
    response_model=SchemaVersionPublic,
    responses=error_responses(400, 403, 404),
)
async def create_schema_version(
    session: SessionDep, principal: PrincipalDep, body: SchemaVersionCreate
) -> Any:
    """`columns` (alias columnsJson) are echoed as columnsJson; status current archives the
    previous current schema version."""
    return await dataset_schemas.create_schema_version(
        session,
        principal=principal,
        dataset_id=body.dataset_id,
        columns=[c.wire() for c in body.columns],
        status=body.status,
        parsing_options=body.parsing_options.wire() if body.parsing_options else None,
    )


@router.get("", response_model=Paginated[SchemaVersionPublic], responses=error_responses(400, 403))
async def list_schema_versions(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Depends(paging(VersionSort))],
    filters: Annotated[dataset_schemas.SchemaVersionFilters, Query()],
) -> Any:
    return await dataset_schemas.list_schema_versions(
        session, principal=principal, params=params, filters=filters
    )


@router.get(
    "/{datasetSchemaVersionId}",
    response_model=SchemaVersionPublic,
    responses=error_responses(400, 403, 404),
)
async def retrieve_schema_version(
    session: SessionDep, principal: PrincipalDep, version_id: SchemaVersionId
) -> Any:
    return await dataset_schemas.get_schema_version(
        session, principal=principal, version_id=version_id
    )


@router.patch(
    "/{datasetSchemaVersionId}",
    response_model=SchemaVersionPublic,
    responses=error_responses(400, 403, 404),
)
async def update_schema_version(
    session: SessionDep,
    principal: PrincipalDep,
    version_id: SchemaVersionId,
    body: SchemaVersionUpdate,
) -> Any:
    """status current: becomes the dataset's current schema (the previous one is archived);
    archiving the current one clears the dataset's pointer."""
    return await dataset_schemas.update_schema_version(
        session, principal=principal, version_id=version_id, changes=body.wire_changes()
    )
