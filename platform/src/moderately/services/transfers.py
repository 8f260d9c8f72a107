"""Presigned transfers, shared by files and dataset data versions (one life cycle).

A row with the `UploadTracked` columns is the gate: an upload is `pending` with a PUT URL; the
client PUTs the bytes; completing verifies what was stored (`verify_upload`) and marks the row
`completed` (`mark_completed`), or `failed` with a reason and its bytes removed (`fail_upload`).
Download URLs exist only for `completed` rows, so unverified bytes are never served; they are
served as attachments under the row's file name.

An upload URL is single use: the bytes land in the store's upload area and only `complete`
moves them to the row's key, so a PUT after the upload completed, failed or was deleted cannot
touch the stored object. The local store refuses such a PUT (403) by asking `accepts_upload`;
S3 takes it into its upload area, where `remove_stale_uploads` (the periodic sweep) clears it.

Slow object-store work runs outside any database transaction (a SQLite write transaction would
block every other writer for its whole length); state changes after it are conditional updates
(`WHERE upload_status = 'pending'`), so a concurrent complete or cleanup cannot both win.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import anyio.to_thread
from sqlalchemy import ColumnElement, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import DatasetDataVersion, File, UploadTracked
from moderately.db.session import Database
from moderately.errors import Conflict, Invalid, InvalidState
from moderately.private_files import FILE_MODE
from moderately.statuses import UploadStatus
from moderately.storage import IntegrityError, ObjectInfo, ObjectNotFound, ObjectStore
from moderately.timeutil import utcnow

EXPIRED_REASON = "the upload was not completed before its upload URL expired"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PREFIX = "sha256:"
# The keys presigned uploads go to (services/files.object_key, dataset_data.object_key).
_UPLOAD_KEYS: tuple[tuple[re.Pattern[str], type[UploadTracked]], ...] = (
    (re.compile(r"teams/[^/]+/files/([^/]+)"), File),
    (re.compile(r"teams/[^/]+/datasets/[^/]+/data-versions/([^/]+)"), DatasetDataVersion),
)


@dataclass(frozen=True)
class Storage:
    """The object store and the rules applied to transfers through it (from Settings)."""

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
class UploadUrl:
    url: str
    expires_at: datetime
    # Headers the PUT must carry (they are part of the signature).
    headers: Mapping[str, str]


@dataclass(frozen=True)
class DownloadTicket:
    download_url: str
    expires_at: datetime
    # What the URL serves (an extension: the client verifies the bytes without another GET).
    file_hash: str | None = None
    file_size: int | None = None


# ---- hashes and sizes ----


def hash_hex(value: str) -> str | None:
    """Lower-case hex of a SHA-256 written as hex or `sha256:hex` (any case); else None."""
    text = value.strip().lower().removeprefix(_PREFIX)
    return text if _HEX64.fullmatch(text) else None


def required_hash(value: str, field: str = "fileHash") -> str:
    digest = hash_hex(value)
    if digest is None:
        raise Invalid(
            f"{field} must be a SHA-256 digest: 64 hexadecimal characters, "
            "optionally prefixed with 'sha256:'",
            field=field,
        )
    return digest


def normalised_hashes(values: list[str] | tuple[str, ...]) -> list[str]:
    """Filter values (`fileHashes`): case and a `sha256:` prefix do not matter."""
    return sorted({v.strip().lower().removeprefix(_PREFIX) for v in values})


def check_upload_size(storage: Storage, size: int, field: str) -> None:
    if size > storage.max_upload_bytes:
        raise Invalid(
            f"{field} {size} exceeds this server's upload limit of "
            f"{storage.max_upload_bytes} bytes",
            field=field,
            value=size,
        )


# ---- URLs ----


async def presign_upload(
    storage: Storage,
    key: str,
    *,
    size: int | None,
    digest: str | None = None,
    sign_checksum: bool = False,
) -> UploadUrl:
    """A PUT URL for exactly `size` bytes, or (size unknown) up to the upload limit.

    Content-Type is not bound: 0.2.7 sends its own, a plain client may send none.
    """
    request = await storage.store.presign(
        "PUT",
        key,
        expires_in=storage.upload_ttl_seconds,
        content_length=size,
        max_length=storage.max_upload_bytes if size is None else None,
        sha256=digest if sign_checksum else None,  # without a hash there is nothing to bind
        base_url=storage._route("upload"),
    )
    return UploadUrl(request.url, request.expires_at, dict(request.headers))


async def presign_download(
    storage: Storage,
    row: UploadTracked,
    *,
    content_type: str,
    what: str,
    field: str,
    file_name: str | None = None,
    file_hash: str | None = None,
    file_size: int | None = None,
) -> DownloadTicket:
    """A GET URL, an attachment saved as `file_name`; only for rows whose upload completed
    (400 naming `field` otherwise)."""
    if row.upload_status != UploadStatus.COMPLETED:
        raise InvalidState(f"upload not completed: {what} is {row.upload_status}", field=field)
    request = await storage.store.presign(
        "GET",
        row.storage_key,
        expires_in=storage.download_ttl_seconds,
        content_type=content_type,
        base_url=storage._route("download"),
        file_name=file_name,
    )
    return DownloadTicket(request.url, request.expires_at, file_hash, file_size)


# ---- completing ----


def upload_expired(row: UploadTracked, storage: Storage, now: datetime) -> bool:
    if row.upload_expires_at is None:
        return False
    return row.upload_expires_at + timedelta(seconds=storage.pending_grace_seconds) < now


async def verify_upload(
    session: AsyncSession,
    storage: Storage,
    row: UploadTracked,
    *,
    size: int | None,
    digest: str | None,
    field: str,
    already: str,
) -> ObjectInfo:
    """Commit the stored bytes, checking `size` and `digest` when given; returns what was stored.

    Commits the session first: no transaction (and no SQLite write lock) across the store's
    verification. Nothing uploaded: 400 and the row stays pending, so the client can PUT again.
    A mismatch: the row fails for good (`fail_upload`) and 400. `already` names the row in the
    409 when someone else completed or failed it meanwhile.
    """
    key = row.storage_key
    await session.commit()
    try:
        return await storage.store.commit(key, size=size, sha256=digest)
    except ObjectNotFound:
        await session.refresh(row)
        if row.upload_status != UploadStatus.PENDING:
            raise conflict(already, row.upload_status) from None
        raise InvalidState(
            f"no bytes were uploaded for this {field}: PUT them to the upload URL, then complete",
            field=field,
        ) from None
    except IntegrityError as exc:
        await fail_upload(session, storage, row, exc.reason, remove=False)
        raise InvalidState(f"upload failed: {exc.reason}", field=field) from None


def conflict(what: str, status: str) -> Conflict:
    return Conflict(f"the upload of {what} is already {status}")


async def mark_completed(
    session: AsyncSession, storage: Storage, row: UploadTracked, *, already: str, **values: Any
) -> None:
    """pending -> completed with `values`; 409 when the row left `pending` meanwhile (if cleanup
    failed it, its bytes go too)."""
    result = await session.execute(
        update(type(row))
        .where(_is(row), type(row).upload_status == UploadStatus.PENDING)
        .values(
            upload_status=UploadStatus.COMPLETED,
            failure_reason=None,
            upload_expires_at=None,
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(row)
    if _rowcount(result) == 0:
        if row.upload_status == UploadStatus.FAILED:
            await session.commit()
            await storage.store.delete(row.storage_key)
        raise conflict(already, row.upload_status)


async def fail_upload(
    session: AsyncSession, storage: Storage, row: UploadTracked, reason: str, *, remove: bool = True
) -> bool:
    """Mark a pending row failed and commit (the caller answers 400 next, which would roll
    back); then remove its bytes. False when the row was no longer pending."""
    result = await session.execute(
        update(type(row))
        .where(_is(row), type(row).upload_status == UploadStatus.PENDING)
        .values(upload_status=UploadStatus.FAILED, failure_reason=reason, upload_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    changed = _rowcount(result) > 0
    await session.commit()
    if changed and remove:
        await storage.store.delete(row.storage_key)
    return changed


async def expire_pending_uploads(
    database: Database,
    storage: Storage,
    model: type[UploadTracked],
    *,
    now: datetime | None = None,
    batch: int = 100,
) -> int:
    """Fail every `pending` row of `model` whose upload URL expired more than the grace period
    ago, and remove its bytes. Safe to run in several processes at once. Returns how many."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=storage.pending_grace_seconds)
    expired = 0
    while True:
        async with database.session(write=False) as session:
            stale = (
                await session.scalars(
                    select(model)
                    .where(
                        model.upload_status == UploadStatus.PENDING,
                        model.upload_expires_at < cutoff,
                    )
                    .order_by(model.upload_expires_at)
                    .limit(batch)
                )
            ).all()
        for row in stale:
            async with database.session() as session:
                session.add(row)
                expired += await fail_upload(session, storage, row, EXPIRED_REASON)
        if len(stale) < batch:
            return expired


async def accepts_upload(session: AsyncSession, key: str) -> bool:
    """Whether a PUT to `key` may still land: the row whose upload URL it is exists and is
    `pending`. Completed, failed and deleted uploads take no more bytes."""
    for pattern, model in _UPLOAD_KEYS:
        match = pattern.fullmatch(key)
        if match is None:
            continue
        row = await session.get(model, match.group(1))
        return (
            row is not None and row.storage_key == key and row.upload_status == UploadStatus.PENDING
        )
    return False


async def remove_stale_uploads(storage: Storage, *, now: datetime | None = None) -> int:
    """Remove bytes in the store's upload area that no upload can complete any more: PUT
    before the longest an upload URL lives plus the grace period ago (late PUTs after complete,
    fail or delete on S3, leftovers of a crash). Returns how many went."""
    now = now or utcnow()
    age = timedelta(seconds=storage.upload_ttl_seconds + storage.pending_grace_seconds)
    return await storage.store.remove_stale_uploads(before=now - age)


# ---- server-side reading ----


async def fetch_to_file(store: ObjectStore, key: str, path: Path) -> tuple[int, str]:
    """Stream a committed object to a local file (bounded memory); its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0

    def write(f: IO[bytes], chunk: bytes) -> None:
        digest.update(chunk)
        f.write(chunk)

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        async with await store.open(key) as reader:
            async for chunk in reader:
                size += len(chunk)
                await anyio.to_thread.run_sync(write, f, chunk)
    return size, digest.hexdigest()


def _is(row: UploadTracked) -> ColumnElement[bool]:
    mapper = inspect(type(row))
    (pk,) = mapper.primary_key
    return pk == mapper.primary_key_from_instance(row)[0]


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
