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
from moderately.schemas.base import Paginated
from moderately.schemas.datasets import (
    DataVersionComplete,
    DataVersionCreate,
    DataVersionDownloadPublic,
    DataVersionPublic,
    DataVersionUploadPublic,
    VersionSort,
)
from moderately.services import dataset_data
from moderately.services.paging import PageParams

router = APIRouter(
    prefix="/dataset-data-versions", tags=["Dataset Data Versions"], route_class=BoundedJSONRoute
)

DataVersionId = Annotated[str, Path(alias="datasetDataVersionId")]
# The published /complete and /download paths spell the same id {dataVersionId}.
ActionVersionId = Annotated[str, Path(alias="dataVersionId")]


@router.post(
    "",
    status_code=201,
    response_model=DataVersionUploadPublic,
    responses=error_responses(400, 403, 404),
)
async def create_data_version(
    session: SessionDep, principal: PrincipalDep, storage: StoreDep, body: DataVersionCreate
) -> Any:
    """A pending version (versionNo = previous + 1) and a presigned URL to PUT its bytes to."""
    ticket = await dataset_data.create_version(
        session,
        principal=principal,
        storage=storage,
        dataset_id=body.dataset_id,
        file_name=body.file_name,
        file_type=body.file_type,
        status=body.status,
        file_size=body.file_size_bytes,
        file_hash=body.file_hash,
        sign_checksum=body.sign_checksum,
    )
    return DataVersionUploadPublic(
        data_version=DataVersionPublic.model_validate(ticket.version),
        upload_url=ticket.upload_url,
        upload_expiry=ticket.expires_at,
        upload_headers=dict(ticket.upload_headers),
    )


@router.get("", response_model=Paginated[DataVersionPublic], responses=error_responses(400, 403))
async def list_data_versions(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Depends(paging(VersionSort))],
    filters: Annotated[dataset_data.DataVersionFilters, Query()],
) -> Any:
    """Default order: createdAt ascending."""
    return await dataset_data.list_versions(
        session, principal=principal, params=params, filters=filters
    )


@router.get(
    "/{datasetDataVersionId}",
    response_model=DataVersionPublic,
    responses=error_responses(400, 403, 404),
)
async def retrieve_data_version(
    session: SessionDep, principal: PrincipalDep, version_id: DataVersionId
) -> Any:
    return await dataset_data.get_version(session, principal=principal, version_id=version_id)


@router.post(
    "/{dataVersionId}/complete",
    response_model=DataVersionPublic,
    responses=error_responses(400, 403, 404, 409),
)
async def complete_data_version(
    session: SessionDep,
    principal: PrincipalDep,
    storage: StoreDep,
    version_id: ActionVersionId,
    body: DataVersionComplete | None = None,
) -> Any:
    """Verifies the stored bytes (fileSizeBytes and fileHash when given; the body may be
    absent), records the row count the server counted (rowCount; the body's rowCount is
    ignored) and, for a version created current, makes it current (the previous current is
    archived)."""
    body = body or DataVersionComplete()
    return await dataset_data.complete_version(
        session,
        principal=principal,
        storage=storage,
        version_id=version_id,
        file_size=body.file_size_bytes,
        file_hash=body.file_hash,
    )


@router.get(
    "/{dataVersionId}/download",
    response_model=DataVersionDownloadPublic,
    responses=error_responses(400, 403, 404),
)
async def download_data_version(
    session: SessionDep, principal: PrincipalDep, storage: StoreDep, version_id: ActionVersionId
) -> Any:
    """A presigned GET URL for any version whose upload completed (400 otherwise)."""
    ticket = await dataset_data.download_url(
        session, principal=principal, storage=storage, version_id=version_id
    )
    return DataVersionDownloadPublic(
        download_url=ticket.download_url,
        expires_at=ticket.expires_at,
        file_hash=ticket.file_hash,
        file_size_bytes=ticket.file_size,
    )
