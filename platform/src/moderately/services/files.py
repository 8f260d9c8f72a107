"""Files: metadata rows in the database, bytes in the object store, moved by presigned URLs.

Life cycle (api.md 6.1): `upload-url` makes a `pending` row and a PUT URL; the client PUTs the
bytes; `complete` verifies what was stored (size and SHA-256 against what was declared) and sets
`completed`, or sets `failed` with a reason and removes the bytes. The row is the gate: download
URLs exist only for `completed` files, so bytes that were never verified are never served, even on
S3 where an upload lands under its final key (see `storage.ObjectStore`).

A `pending` upload whose URL expired (plus a grace period) is failed by `expire_pending_uploads`,
which the app runs periodically, and lazily by `complete`.

Slow object-store work (verifying a large object) runs outside any database transaction: a
SQLite write transaction would otherwise block every other writer for its whole length. State
changes after it are conditional updates (`WHERE upload_status = 'pending'`), so a concurrent
complete or cleanup cannot both win.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import File
from moderately.db.session import Database
from moderately.errors import Conflict, Invalid, InvalidState, NotFound
from moderately.ids import is_plausible_id, new_id
from moderately.services.auth import Principal
from moderately.services.datasets import require_dataset
from moderately.services.paging import Page, PageParams, like_pattern, paginate
from moderately.services.scope import scoped, team_for_create, teams_to_show
from moderately.storage import IntegrityError, ObjectNotFound, ObjectStore
from moderately.timeutil import utcnow

log = logging.getLogger("moderately.files")

PENDING, COMPLETED, FAILED = "pending", "completed", "failed"
# `uploadStatus` (and 0.2.7's `status`) values, mapped to the three the server keeps (api.md 2.5).
STATUS_ALIASES: Mapping[str, str] = {
    "pending": PENDING,
    "processing": PENDING,
    "completed": COMPLETED,
    "ready": COMPLETED,
    "uploaded": COMPLETED,
    "failed": FAILED,
    "error": FAILED,
}
SORT = {
    "fileName": File.file_name,
    "fileSize": File.file_size,
    "createdAt": File.created_at,
    "updatedAt": File.updated_at,
}
DEFAULT_MIME_TYPE = "application/octet-stream"
MAX_METADATA_BYTES = 64 * 1024
EXPIRED_REASON = "the upload was not completed before its upload URL expired"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PREFIX = "sha256:"


@dataclass(frozen=True)
class Storage:
    """The object store and the rules the files service applies to it (from Settings)."""

    store: ObjectStore
    max_upload_bytes: int
    upload_ttl_seconds: int
    download_ttl_seconds: int
    pending_grace_seconds: int
    # Where this request reached the API, e.g. "http://host:8000/api": the local store serves
    # its URLs below it (`/_storage/upload/...`); S3 ignores it.
    url_base: str | None = None

    def at(self, url_base: str) -> Storage:
        return dataclasses.replace(self, url_base=url_base.rstrip("/"))

    def _route(self, kind: str) -> str | None:
        return f"{self.url_base}/_storage/{kind}" if self.url_base else None


@dataclass(frozen=True)
class UploadTicket:
    file: File
    upload_url: str
    expires_at: datetime
    # Headers the PUT must carry (they are part of the signature).
    upload_headers: Mapping[str, str]


@dataclass(frozen=True)
class DownloadTicket:
    download_url: str
    expires_at: datetime


def hash_hex(value: str) -> str | None:
    """Lower-case hex of a SHA-256 written as hex or `sha256:hex` (any case); else None."""
    text = value.strip().lower()
    text = text.removeprefix(_PREFIX)
    return text if _HEX64.fullmatch(text) else None


def _required_hash(value: str, field: str = "fileHash") -> str:
    digest = hash_hex(value)
    if digest is None:
        raise Invalid(
            "fileHash must be a SHA-256 digest: 64 hexadecimal characters, "
            "optionally prefixed with 'sha256:'",
            field=field,
        )
    return digest


def object_key(team_id: str, file_id: str) -> str:
    return f"teams/{team_id}/files/{file_id}"


def _check_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    if len(json.dumps(metadata, separators=(",", ":"))) > MAX_METADATA_BYTES:
        raise Invalid(
            f"metadata must serialise to at most {MAX_METADATA_BYTES} bytes of JSON",
            field="metadata",
        )
    return dict(metadata)


# ---- reads ----


async def list_files(
    session: AsyncSession,
    *,
    principal: Principal,
    params: PageParams,
    team_ids: Sequence[str] = (),
    file_ids: Sequence[str] = (),
    name_like: str | None = None,
    mime_types: Sequence[str] = (),
    file_hashes: Sequence[str] = (),
    upload_status: str | None = None,
    dataset_id: str | None = None,
) -> Page[File]:
    stmt = select(File).where(File.team_id.in_(teams_to_show(principal, team_ids)))
    if file_ids:
        stmt = stmt.where(File.file_id.in_(file_ids))
    if name_like:
        stmt = stmt.where(File.file_name.ilike(like_pattern(name_like), escape="\\"))
    if mime_types:
        stmt = stmt.where(File.mime_type.in_(mime_types))
    if file_hashes:
        wanted = {h.strip().lower().removeprefix(_PREFIX) for h in file_hashes}
        stmt = stmt.where(File.hash_hex.in_(sorted(wanted)))
    if upload_status is not None:
        stmt = stmt.where(File.upload_status == STATUS_ALIASES[upload_status])
    if dataset_id is not None:
        stmt = stmt.where(File.dataset_id == dataset_id)
    return await paginate(
        session,
        stmt,
        params=params,
        sort_columns=SORT,
        id_column=File.file_id,
        default_direction="desc",
    )


async def get_file(session: AsyncSession, *, principal: Principal, file_id: str) -> File:
    file = None
    if is_plausible_id(file_id):
        file = await session.scalar(
            scoped(select(File).where(File.file_id == file_id), File.team_id, principal)
        )
    if file is None:
        raise NotFound("file", file_id)
    return file


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
    """A `pending` file and the URL to PUT its bytes to (api.md 6.1 step 3)."""
    principal.require_write()
    team_id = team_for_create(principal, team_id=team_id, request_team_ids=request_team_ids)
    if file_size > storage.max_upload_bytes:
        raise Invalid(
            f"fileSize {file_size} exceeds this server's upload limit of "
            f"{storage.max_upload_bytes} bytes",
            field="fileSize",
            value=file_size,
        )
    digest = _required_hash(file_hash) if file_hash is not None else None
    if dataset_id is not None:
        await require_dataset(session, team_id=team_id, dataset_id=dataset_id)
    file_id = new_id()
    key = object_key(team_id, file_id)
    mime_type = mime_type or DEFAULT_MIME_TYPE
    # Content-Type is not bound: 0.2.7 sends the declared one, a plain client may send none.
    # Downloads are served with the row's mimeType, whatever the PUT carried.
    request = await storage.store.presign(
        "PUT",
        key,
        expires_in=storage.upload_ttl_seconds,
        content_length=file_size,
        sha256=digest if sign_checksum else None,  # without a hash there is nothing to bind
        base_url=storage._route("upload"),
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
        upload_status=PENDING,
        uploaded_by=principal.user_id,
        metadata_=_check_metadata(metadata or {}),
        dataset_id=dataset_id,
        storage_key=key,
        upload_expires_at=request.expires_at,
    )
    session.add(file)
    await session.flush()
    return UploadTicket(file, request.url, request.expires_at, dict(request.headers))


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
    if file.upload_status != PENDING:
        raise Conflict(f"the upload of file {file.file_id} is already {file.upload_status}")
    digest = _required_hash(file_hash)
    now = now or utcnow()
    problem = None
    if _expired(file, storage, now):
        problem = EXPIRED_REASON
    elif file_size != file.file_size:
        problem = f"fileSize {file_size} differs from the {file.file_size} declared at upload-url"
    elif file.hash_hex is not None and digest != file.hash_hex:
        problem = "fileHash differs from the one declared at upload-url"
    if problem is not None:
        await _fail(session, storage, file, problem)
        raise InvalidState(f"upload failed: {problem}", field="file")

    key = file.storage_key
    await session.commit()  # no transaction (and no SQLite write lock) across the verification
    try:
        await storage.store.commit(key, size=file_size, sha256=digest)
    except ObjectNotFound:
        await session.refresh(file)
        if file.upload_status != PENDING:
            raise Conflict(
                f"the upload of file {file.file_id} is already {file.upload_status}"
            ) from None
        raise InvalidState(
            "no bytes were uploaded for this file: PUT them to the upload URL, then complete",
            field="file",
        ) from None
    except IntegrityError as exc:
        await _fail(session, storage, file, exc.reason, remove=False)
        raise InvalidState(f"upload failed: {exc.reason}", field="file") from None

    result = await session.execute(
        update(File)
        .where(File.file_id == file.file_id, File.upload_status == PENDING)
        .values(
            upload_status=COMPLETED,
            file_hash=file_hash,
            hash_hex=digest,
            failure_reason=None,
            upload_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(file)
    if _rowcount(result) == 0:
        if file.upload_status == FAILED:  # cleanup failed it while we verified: its bytes go
            await session.commit()
            await storage.store.delete(key)
        raise Conflict(f"the upload of file {file.file_id} is already {file.upload_status}")
    return file


def _expired(file: File, storage: Storage, now: datetime) -> bool:
    if file.upload_expires_at is None:
        return False
    return file.upload_expires_at + timedelta(seconds=storage.pending_grace_seconds) < now


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def _fail(
    session: AsyncSession, storage: Storage, file: File, reason: str, *, remove: bool = True
) -> bool:
    """Mark a pending file failed and commit (the caller answers 400 next, which would roll
    back); then remove its bytes. False when the file was no longer pending."""
    result = await session.execute(
        update(File)
        .where(File.file_id == file.file_id, File.upload_status == PENDING)
        .values(upload_status=FAILED, failure_reason=reason, upload_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    changed = _rowcount(result) > 0
    await session.commit()
    if changed and remove:
        await storage.store.delete(file.storage_key)
    return changed


async def expire_pending_uploads(
    database: Database, storage: Storage, *, now: datetime | None = None, batch: int = 100
) -> int:
    """Fail every `pending` file whose upload URL expired more than the grace period ago,
    and remove its bytes. Safe to run in several processes at once. Returns how many."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=storage.pending_grace_seconds)
    expired = 0
    while True:
        async with database.session(write=False) as session:
            stale = (
                await session.scalars(
                    select(File)
                    .where(File.upload_status == PENDING, File.upload_expires_at < cutoff)
                    .order_by(File.upload_expires_at)
                    .limit(batch)
                )
            ).all()
        for file in stale:
            async with database.session() as session:
                session.add(file)
                expired += await _fail(session, storage, file, EXPIRED_REASON)
        if len(stale) < batch:
            return expired


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
    """The row, then the bytes; if removing the bytes fails, the row stays (rolled back)."""
    file = await get_file(session, principal=principal, file_id=file_id)
    principal.require_write()
    await session.delete(file)
    await session.flush()
    await storage.store.delete(file.storage_key)


async def delete_team_objects(session: AsyncSession, *, storage: Storage, team_id: str) -> None:
    """The bytes of every file of a team that is being deleted (its rows go by cascade)."""
    keys = (await session.scalars(select(File.storage_key).where(File.team_id == team_id))).all()
    for key in keys:
        await storage.store.delete(key)


async def download_url(
    session: AsyncSession, *, principal: Principal, storage: Storage, file_id: str
) -> DownloadTicket:
    file = await get_file(session, principal=principal, file_id=file_id)
    if file.upload_status != COMPLETED:
        raise InvalidState(
            f"upload not completed: file {file.file_id} is {file.upload_status}", field="file"
        )
    request = await storage.store.presign(
        "GET",
        file.storage_key,
        expires_in=storage.download_ttl_seconds,
        content_type=file.mime_type,
        base_url=storage._route("download"),
    )
    return DownloadTicket(request.url, request.expires_at)
