"""Files: metadata rows in the database, bytes in the object store, moved by presigned URLs.

Life cycle (the transfer rules shared with dataset data versions are in
services/transfers.py): `upload-url` makes a `pending` row and a PUT URL; the client PUTs the
bytes; `complete` verifies what was stored (size and SHA-256 against what was declared) and sets
`completed`, or sets `failed` with a reason and removes the bytes. Download URLs exist only for
`completed` files.

A `pending` upload whose URL expired (plus a grace period) is failed by `expire_pending_uploads`,
which the app runs periodically, and lazily by `complete`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import File
from moderately.db.session import Database
from moderately.errors import Invalid, InvalidState
from moderately.ids import new_id
from moderately.schemas.entities import UploadStatusFilter
from moderately.services import object_removals, transfers
from moderately.services.auth import Principal
from moderately.services.datasets import require_dataset
from moderately.services.filters import ListFilters, Values, equal, filtered, like, one_of
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.scope import get_scoped, team_for_create
from moderately.services.transfers import (
    EXPIRED_REASON,
    DownloadTicket,
    Storage,
    hash_hex,
)
from moderately.statuses import UploadStatus
from moderately.timeutil import utcnow

__all__ = [
    "EXPIRED_REASON",
    "DownloadTicket",
    "Storage",
    "UploadTicket",
    "complete_upload",
    "create_upload",
    "delete_file",
    "download_url",
    "expire_pending_uploads",
    "get_file",
    "hash_hex",
    "store_file",
    "list_files",
    "object_key",
    "update_file",
]

log = logging.getLogger("moderately.files")

# `uploadStatus` (and 0.2.7's `status`) values, mapped to the three the server keeps.
STATUS_ALIASES: Mapping[str, UploadStatus] = {
    UploadStatusFilter.pending: UploadStatus.PENDING,
    UploadStatusFilter.processing: UploadStatus.PENDING,
    UploadStatusFilter.completed: UploadStatus.COMPLETED,
    UploadStatusFilter.ready: UploadStatus.COMPLETED,
    UploadStatusFilter.uploaded: UploadStatus.COMPLETED,
    UploadStatusFilter.failed: UploadStatus.FAILED,
    UploadStatusFilter.error: UploadStatus.FAILED,
}
SORT = {
    "fileName": File.file_name,
    "fileSize": File.file_size,
    "createdAt": File.created_at,
    "updatedAt": File.updated_at,
}
DEFAULT_MIME_TYPE = "application/octet-stream"
MAX_METADATA_BYTES = 64 * 1024


@dataclass(frozen=True)
class UploadTicket:
    file: File
    upload_url: str
    expires_at: datetime
    # Headers the PUT must carry (they are part of the signature).
    upload_headers: Mapping[str, str]


def object_key(team_id: str, file_id: str) -> str:
    return f"teams/{team_id}/files/{file_id}"


def _check_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    if _json_longer_than(metadata, MAX_METADATA_BYTES):
        raise Invalid(
            f"metadata must serialise to at most {MAX_METADATA_BYTES} bytes of JSON",
            field="metadata",
        )
    return dict(metadata)


def _json_longer_than(value: Any, limit: int) -> bool:
    """Whether the compact JSON of `value` has more than `limit` characters. Encoded piece by
    piece and stopped past the limit, so a large document (the request body can hold tens of
    MiB) costs no more than `limit` characters of work on the event loop."""
    size = 0
    for piece in json.JSONEncoder(separators=(",", ":")).iterencode(value):
        size += len(piece)
        if size > limit:
            return True
    return False


# ---- reads ----


def _hex_digests(file_hashes: list[str]) -> list[str]:
    return transfers.normalised_hashes(tuple(file_hashes))


class FileFilters(ListFilters):
    team_column = File.team_id
    file_ids: Annotated[Values, Field(alias="fileIds"), one_of(File.file_id)] = None
    name_like: Annotated[str | None, Field(alias="nameLike"), like(File.file_name)] = None
    mime_types: Annotated[
        Values, Field(alias="mimeTypes", description="alias: mime_type"), one_of(File.mime_type)
    ] = None
    file_hashes: Annotated[
        Values,
        Field(
            alias="fileHashes",
            description="SHA-256 digests; case and a `sha256:` prefix do not matter",
        ),
        one_of(File.hash_hex, _hex_digests),
    ] = None
    upload_status: Annotated[
        UploadStatusFilter | None,
        Field(
            alias="uploadStatus",
            description="alias: status; ready/uploaded mean completed, processing pending, "
            "error failed",
        ),
        equal(File.upload_status, STATUS_ALIASES.__getitem__),
    ] = None
    dataset_id: Annotated[
        str | None,
        Field(alias="datasetId", description="alias: dataset_id"),
        equal(File.dataset_id),
    ] = None


async def list_files(
    session: AsyncSession, *, principal: Principal, params: PageParams, filters: FileFilters
) -> Page[File]:
    stmt = filtered(select(File), filters, principal)
    return await paginate(
        session,
        stmt,
        params=params,
        sort_columns=SORT,
        id_column=File.file_id,
        default_direction="desc",
    )


async def get_file(session: AsyncSession, *, principal: Principal, file_id: str) -> File:
    return await get_scoped(session, File, file_id, principal)


# ---- upload ----


async def create_upload(
    session: AsyncSession,
    *,
    principal: Principal,
    storage: Storage,
    file_name: str,
    file_size: int,
    mime_type: str | None = None,
    file_hash: str | None = None,
    team_id: str | None = None,
    request_team_ids: Sequence[str] = (),
    dataset_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    sign_checksum: bool = False,
) -> UploadTicket:
    """A `pending` file and the URL to PUT its bytes to."""
    principal.require_write()
    team_id = team_for_create(principal, team_id=team_id, request_team_ids=request_team_ids)
    transfers.check_upload_size(storage, file_size, "fileSize")
    digest = transfers.required_hash(file_hash) if file_hash is not None else None
    if dataset_id is not None:
        await require_dataset(session, team_id=team_id, dataset_id=dataset_id)
    file_id = new_id()
    key = object_key(team_id, file_id)
    mime_type = mime_type or DEFAULT_MIME_TYPE
    # Downloads are served with the row's mimeType, whatever the PUT carried.
    url = await transfers.presign_upload(
        storage, key, size=file_size, digest=digest, sign_checksum=sign_checksum
    )
    file = File(
        file_id=file_id,
        team_id=team_id,
        file_name=file_name,
        original_name=file_name,
        file_size=file_size,
        mime_type=mime_type,
        file_hash=file_hash,
        hash_hex=digest,
        upload_status=UploadStatus.PENDING,
        uploaded_by=principal.user_id,
        metadata_=_check_metadata(metadata or {}),
        dataset_id=dataset_id,
        storage_key=key,
        upload_expires_at=url.expires_at,
    )
    session.add(file)
    await session.flush()
    return UploadTicket(file, url.url, url.expires_at, url.headers)


async def store_file(
    database: Database,
    storage: Storage,
    *,
    team_id: str,
    file_name: str,
    data: bytes,
    mime_type: str,
    metadata: Mapping[str, Any] | None = None,
) -> File:
    """A file the server itself writes (an agent's ResourceCreationTool): the bytes first, then
    a `completed` row, as if uploaded and completed; no row is left without its bytes."""
    file_id = new_id()
    key = object_key(team_id, file_id)
    digest = hashlib.sha256(data).hexdigest()

    async def body() -> AsyncIterator[bytes]:
        yield data

    await storage.store.put(key, body(), content_type=mime_type)
    try:
        async with database.session() as session:
            file = File(
                file_id=file_id,
                team_id=team_id,
                file_name=file_name,
                original_name=file_name,
                file_size=len(data),
                mime_type=mime_type,
                file_hash=digest,
                hash_hex=digest,
                upload_status=UploadStatus.COMPLETED,
                metadata_=_check_metadata(metadata or {}),
                storage_key=key,
            )
            session.add(file)
            await session.flush()
            session.expunge(file)
    except Exception:
        await storage.store.delete(key)
        raise
    return file


async def complete_upload(
    session: AsyncSession,
    *,
    principal: Principal,
    storage: Storage,
    file_id: str,
    file_size: int,
    file_hash: str,
    now: datetime | None = None,
) -> File:
    """Verify the stored bytes against the declaration and mark the file `completed`.

    400 (`details[0].field == "file"`) when nothing was uploaded: the file stays `pending`, so
    the client can PUT again and retry. A mismatch (with what upload-url declared, or between
    the declaration and the stored bytes) fails the file for good and removes its bytes.
    """
    file = await get_file(session, principal=principal, file_id=file_id)
    principal.require_write()
    what = f"file {file.file_id}"
    if file.upload_status != UploadStatus.PENDING:
        raise transfers.conflict(what, file.upload_status)
    digest = transfers.required_hash(file_hash)
    problem = None
    if transfers.upload_expired(file, storage, now or utcnow()):
        problem = EXPIRED_REASON
    elif file_size != file.file_size:
        problem = f"fileSize {file_size} differs from the {file.file_size} declared at upload-url"
    elif file.hash_hex is not None and digest != file.hash_hex:
        problem = "fileHash differs from the one declared at upload-url"
    if problem is not None:
        await transfers.fail_upload(session, storage, file, problem)
        raise InvalidState(f"upload failed: {problem}", field="file")
    await transfers.verify_upload(
        session, storage, file, size=file_size, digest=digest, field="file", already=what
    )
    await transfers.mark_completed(
        session, storage, file, already=what, file_hash=file_hash, hash_hex=digest
    )
    return file


async def expire_pending_uploads(
    database: Database, storage: Storage, *, now: datetime | None = None, batch: int = 100
) -> int:
    """Fail every `pending` file whose upload URL expired more than the grace period ago,
    and remove its bytes. Safe to run in several processes at once. Returns how many."""
    return await transfers.expire_pending_uploads(database, storage, File, now=now, batch=batch)


# ---- changes ----


async def update_file(
    session: AsyncSession, *, principal: Principal, file_id: str, changes: Mapping[str, Any]
) -> File:
    file = await get_file(session, principal=principal, file_id=file_id)
    principal.require_write()
    if changes.get("file_name") is not None:
        file.file_name = changes["file_name"]
    if changes.get("metadata") is not None:
        file.metadata_ = _check_metadata(changes["metadata"])
    if "dataset_id" in changes:
        dataset_id = changes["dataset_id"]
        if dataset_id is not None:
            await require_dataset(session, team_id=file.team_id, dataset_id=dataset_id)
        file.dataset_id = dataset_id
    await session.flush()
    await session.refresh(file)
    return file


async def delete_file(
    session: AsyncSession, *, principal: Principal, storage: Storage, file_id: str
) -> None:
    """The row, then (once that committed) its bytes, an upload in progress included; its
    upload URL is refused from then on (services/object_removals.py)."""
    file = await get_file(session, principal=principal, file_id=file_id)
    principal.require_write()
    await session.delete(file)
    await object_removals.schedule(session, [file.storage_key])
    await object_removals.remove_after_commit(session, storage)


async def download_url(
    session: AsyncSession, *, principal: Principal, storage: Storage, file_id: str
) -> DownloadTicket:
    file = await get_file(session, principal=principal, file_id=file_id)
    return await transfers.presign_download(
        storage,
        file,
        content_type=file.mime_type,
        what=f"file {file.file_id}",
        field="file",
        file_name=file.file_name,
        file_hash=file.file_hash or file.hash_hex,
        file_size=file.file_size,
    )
