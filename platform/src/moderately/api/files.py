from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from moderately.api.deps import (
    PrincipalDep,
    SessionDep,
    StoreDep,
    TeamIdsQuery,
    paging,
)
from moderately.api.errors import error_responses
from moderately.api.extensions import FILE_UPDATE, marked
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.base import Paginated
from moderately.schemas.entities import (
    Direction,
    FileComplete,
    FileDownloadPublic,
    FilePublic,
    FileSort,
    FileUpdate,
    FileUploadUrlCreate,
    FileUploadUrlPublic,
)
from moderately.services import files
from moderately.services.paging import PageParams

router = APIRouter(prefix="/files", tags=["Files"], route_class=BoundedJSONRoute)

FileId = Annotated[str, Path(alias="fileId")]
file_paging = paging(
    FileSort, max_page_size=100, default_page_size=20, default_direction=Direction.desc
)


@router.get("", response_model=Paginated[FilePublic], responses=error_responses(400, 403))
async def list_files(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Depends(file_paging)],
    filters: Annotated[files.FileFilters, Query()],
) -> Any:
    return await files.list_files(session, principal=principal, params=params, filters=filters)


@router.post(
    "/upload-url",
    status_code=201,
    response_model=FileUploadUrlPublic,
    responses=error_responses(400, 403, 404),
)
async def create_upload_url(
    session: SessionDep,
    principal: PrincipalDep,
    storage: StoreDep,
    body: FileUploadUrlCreate,
    team_ids: TeamIdsQuery = None,
) -> Any:
    """A pending file and a presigned URL to PUT exactly `fileSize` bytes to."""
    ticket = await files.create_upload(
        session,
        principal=principal,
        storage=storage,
        file_name=body.file_name,
        file_size=body.file_size,
        mime_type=body.mime_type,
        file_hash=body.file_hash,
        team_id=body.team_id,
        request_team_ids=team_ids or (),
        dataset_id=body.dataset_id,
        metadata=body.metadata,
        sign_checksum=body.sign_checksum,
    )
    return FileUploadUrlPublic(
        file=FilePublic.model_validate(ticket.file),
        upload_url=ticket.upload_url,
        expires_at=ticket.expires_at,
        upload_headers=dict(ticket.upload_headers),
    )


@router.get("/{fileId}", response_model=FilePublic, responses=error_responses(400, 403, 404))
async def retrieve_file(session: SessionDep, principal: PrincipalDep, file_id: FileId) -> Any:
    return await files.get_file(session, principal=principal, file_id=file_id)


@router.patch(
    "/{fileId}",
    response_model=FilePublic,
    responses=error_responses(400, 403, 404),
    openapi_extra=marked(FILE_UPDATE),
)
async def update_file(
    session: SessionDep, principal: PrincipalDep, file_id: FileId, body: FileUpdate
) -> Any:
    return await files.update_file(
        session, principal=principal, file_id=file_id, changes=body.changes()
    )


@router.delete(
    "/{fileId}",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 403, 404),
)
async def delete_file(
    session: SessionDep, principal: PrincipalDep, storage: StoreDep, file_id: FileId
) -> None:
    """Removes the stored bytes too."""
    await files.delete_file(session, principal=principal, storage=storage, file_id=file_id)


@router.post(
    "/{fileId}/complete",
    response_model=FilePublic,
    responses=error_responses(400, 403, 404, 409),
)
async def complete_upload(
    session: SessionDep,
    principal: PrincipalDep,
    storage: StoreDep,
    file_id: FileId,
    body: FileComplete,
) -> Any:
    """Verifies the stored bytes (size and SHA-256) and marks the file completed; on a mismatch
    the file becomes failed (see failureReason) and its bytes are removed."""
    return await files.complete_upload(
        session,
        principal=principal,
        storage=storage,
        file_id=file_id,
        file_size=body.file_size,
        file_hash=body.file_hash,
    )


@router.get(
    "/{fileId}/download",
    response_model=FileDownloadPublic,
    responses=error_responses(400, 403, 404),
)
async def download_file(
    session: SessionDep, principal: PrincipalDep, storage: StoreDep, file_id: FileId
) -> Any:
    """A presigned GET URL; only for completed files."""
    ticket = await files.download_url(
        session, principal=principal, storage=storage, file_id=file_id
    )
    return FileDownloadPublic(
        download_url=ticket.download_url,
        expires_at=ticket.expires_at,
        file_hash=ticket.file_hash,
        file_size=ticket.file_size,
    )
