from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from moderately.api.deps import (
    MultiValue,
    PrincipalDep,
    SessionDep,
    StoreDep,
    TeamIdsQuery,
    paging,
)
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.base import Paginated
from moderately.schemas.datasets import (
    MAX_VERSION_NO,
    DataVersionComplete,
    DataVersionCreate,
    DataVersionDownloadPublic,
    DataVersionPublic,
    DataVersionUploadPublic,
    FileType,
    UploadStatus,
    VersionSort,
    VersionStatus,
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
    team_ids: TeamIdsQuery = None,
    version_ids: Annotated[MultiValue, Query(alias="datasetDataVersionIds")] = None,
    dataset_ids: Annotated[MultiValue, Query(alias="datasetIds")] = None,
    status: VersionStatus | None = None,
    version_no: Annotated[int | None, Query(alias="versionNo", ge=1, le=MAX_VERSION_NO)] = None,
    file_type: Annotated[FileType | None, Query(alias="fileType")] = None,
    upload_status: Annotated[
        UploadStatus | None,
        Query(
            alias="uploadStatus",
            description="Extension: pending (not completed yet), completed, or failed (refused, "
            "mismatched, or expired: swept once the upload URL and its grace period are over)",
        ),
    ] = None,
) -> Any:
    """Default order: createdAt ascending."""
    return await dataset_data.list_versions(
        session,
        principal=principal,
        params=params,
        team_ids=team_ids or (),
        version_ids=version_ids or (),
        dataset_ids=dataset_ids or (),
        status=status,
        version_no=version_no,
        file_type=file_type,
        upload_status=upload_status,
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
