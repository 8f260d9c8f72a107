"""Dataset data versions: uploaded files (CSV; xlsx kept as is), numbered per dataset.

Flow (transfers shared with files in services/transfers.py): `create_version` makes a
`pending` version and a PUT URL (0.2.7 does not say the size up front, so the URL takes any size
up to the upload limit, unless `fileSizeBytes` is declared); the client PUTs the bytes;
`complete_version` verifies them (the declared or given size and SHA-256), streams them to a
temporary file to hash and count them, and records the row count the server counted
(`tabular.count_rows` with the current schema's parsing options), never the client's estimate.

A version created with status `current` becomes current when its upload completes: the previous
current is archived and the dataset's pointers and counters follow (datasets.promote_data_version).
Until then it shows `draft`. A `draft` changes nothing on the dataset.

An upload that never completes (PUT refused or never sent) is failed by `expire_pending_uploads`
(the app's periodic sweep, shared with files) once its URL expired plus the grace period: its
bytes (if any) are removed and `uploadStatus` becomes `failed` with `failureReason`; it is never
promoted and keeps `status` draft (or archived). The row stays, so its `versionNo` stays used and
numbers only grow; lists filter on `uploadStatus` to hide or show such versions.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import anyio.to_thread
from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately import tabular
from moderately.db.models import DatasetDataVersion, DatasetSchemaVersion
from moderately.db.session import Database
from moderately.errors import InvalidState
from moderately.ids import new_id
from moderately.schemas.datasets import MAX_VERSION_NO, FileType
from moderately.services import datasets, transfers
from moderately.services.auth import Principal
from moderately.services.filters import ListFilters, Values, equal, filtered, one_of
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.scope import get_scoped
from moderately.services.transfers import EXPIRED_REASON, DownloadTicket, Storage
from moderately.statuses import UploadStatus, VersionStatus
from moderately.timeutil import utcnow

log = logging.getLogger("moderately.datasets")

CONTENT_TYPES: Mapping[str, str] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SORT = {
    "createdAt": DatasetDataVersion.created_at,
    "updatedAt": DatasetDataVersion.updated_at,
    "versionNo": DatasetDataVersion.version_no,
}


@dataclass(frozen=True)
class UploadTicket:
    version: DatasetDataVersion
    upload_url: str
    expires_at: datetime
    upload_headers: Mapping[str, str]


def object_key(team_id: str, dataset_id: str, version_id: str) -> str:
    return f"teams/{team_id}/datasets/{dataset_id}/data-versions/{version_id}"


# ---- reads ----


class DataVersionFilters(ListFilters):
    team_column = DatasetDataVersion.team_id
    version_ids: Annotated[
        Values,
        Field(alias="datasetDataVersionIds"),
        one_of(DatasetDataVersion.dataset_data_version_id),
    ] = None
    dataset_ids: Annotated[
        Values, Field(alias="datasetIds"), one_of(DatasetDataVersion.dataset_id)
    ] = None
    status: Annotated[VersionStatus | None, equal(DatasetDataVersion.status)] = None
    version_no: Annotated[
        int | None,
        Field(alias="versionNo", ge=1, le=MAX_VERSION_NO),
        equal(DatasetDataVersion.version_no),
    ] = None
    file_type: Annotated[
        FileType | None, Field(alias="fileType"), equal(DatasetDataVersion.file_type)
    ] = None
    upload_status: Annotated[
        UploadStatus | None,
        Field(
            alias="uploadStatus",
            description="Extension: pending (not completed yet), completed, or failed (refused, "
            "mismatched, or expired: swept once the upload URL and its grace period are over)",
        ),
        equal(DatasetDataVersion.upload_status),
    ] = None


async def list_versions(
    session: AsyncSession, *, principal: Principal, params: PageParams, filters: DataVersionFilters
) -> Page[DatasetDataVersion]:
    model = DatasetDataVersion
    stmt = filtered(select(model), filters, principal)
    return await paginate(
        session, stmt, params=params, sort_columns=SORT, id_column=model.dataset_data_version_id
    )


async def get_version(
    session: AsyncSession, *, principal: Principal, version_id: str
) -> DatasetDataVersion:
    return await get_scoped(session, DatasetDataVersion, version_id, principal)


# ---- upload ----


async def create_version(
    session: AsyncSession,
    *,
    principal: Principal,
    storage: Storage,
    dataset_id: str,
    file_name: str,
    file_type: str,
    status: VersionStatus = VersionStatus.DRAFT,
    file_size: int | None = None,
    file_hash: str | None = None,
    sign_checksum: bool = False,
) -> UploadTicket:
    """A `pending` version numbered max + 1 in its dataset, and the URL to PUT its bytes to."""
    # Locked: the next version number is this transaction's alone.
    dataset = await datasets.get_dataset(
        session, principal=principal, dataset_id=dataset_id, lock=True
    )
    principal.require_write()
    if file_size is not None:
        transfers.check_upload_size(storage, file_size, "fileSizeBytes")
    digest = transfers.required_hash(file_hash) if file_hash is not None else None
    last = await session.scalar(
        select(func.max(DatasetDataVersion.version_no)).where(
            DatasetDataVersion.dataset_id == dataset.dataset_id
        )
    )
    version_id = new_id()
    key = object_key(dataset.team_id, dataset.dataset_id, version_id)
    url = await transfers.presign_upload(
        storage, key, size=file_size, digest=digest, sign_checksum=sign_checksum
    )
    version = DatasetDataVersion(
        dataset_data_version_id=version_id,
        dataset_id=dataset.dataset_id,
        team_id=dataset.team_id,
        version_no=(last or 0) + 1,
        file_name=file_name,
        file_type=file_type,
        status=VersionStatus.ARCHIVED if status == VersionStatus.ARCHIVED else VersionStatus.DRAFT,
        promote_on_complete=status == VersionStatus.CURRENT,
        file_hash=file_hash,
        hash_hex=digest,
        file_size_bytes=file_size,
        storage_key=key,
        upload_status=UploadStatus.PENDING,
        upload_expires_at=url.expires_at,
    )
    session.add(version)
    await session.flush()
    return UploadTicket(version, url.url, url.expires_at, url.headers)


async def complete_version(
    session: AsyncSession,
    *,
    principal: Principal,
    storage: Storage,
    version_id: str,
    file_size: int | None = None,
    file_hash: str | None = None,
    now: datetime | None = None,
) -> DatasetDataVersion:
    """Verify, hash and count the uploaded bytes; promote the version if it was created current.

    Every field is optional: a given (or at create declared) size and SHA-256 must match the
    stored bytes, else the version fails for good (400) and nothing is promoted. No bytes
    uploaded yet: 400 and the version stays pending (PUT, then complete again).
    """
    version = await get_version(session, principal=principal, version_id=version_id)
    principal.require_write()
    what = f"data version {version.dataset_data_version_id}"
    if version.upload_status != UploadStatus.PENDING:
        raise transfers.conflict(what, version.upload_status)
    digest = transfers.required_hash(file_hash) if file_hash is not None else None
    problem = _declaration_problem(version, storage, file_size, digest, now or utcnow())
    if problem is not None:
        await _fail(session, storage, version, problem)
    options = await _parsing_options(session, version.dataset_id)
    size = file_size if file_size is not None else version.file_size_bytes
    info = await transfers.verify_upload(
        session, storage, version, size=size, digest=None, field="dataVersion", already=what
    )
    if info.size > storage.max_upload_bytes:
        limit = storage.max_upload_bytes
        await _fail(session, storage, version, f"{info.size} bytes exceed the limit of {limit}")
    stored_size, actual, rows = await _read_back(
        session, storage, version, expected=digest or version.hash_hex, options=options
    )
    dataset = await datasets.lock_dataset(session, version.dataset_id)
    await transfers.mark_completed(
        session,
        storage,
        version,
        already=what,
        file_hash=file_hash or version.file_hash or actual,
        hash_hex=actual,
        file_size_bytes=stored_size,
        row_count=rows,
    )
    if version.promote_on_complete:
        await datasets.promote_data_version(session, dataset, version)
    await session.flush()
    return version


def _declaration_problem(
    version: DatasetDataVersion,
    storage: Storage,
    file_size: int | None,
    digest: str | None,
    now: datetime,
) -> str | None:
    if transfers.upload_expired(version, storage, now):
        return EXPIRED_REASON
    declared = version.file_size_bytes
    if file_size is not None and declared is not None and file_size != declared:
        return f"fileSizeBytes {file_size} differs from the {declared} declared at create"
    if digest is not None and version.hash_hex is not None and digest != version.hash_hex:
        return "fileHash differs from the one declared at create"
    return None


async def _read_back(
    session: AsyncSession,
    storage: Storage,
    version: DatasetDataVersion,
    *,
    expected: str | None,
    options: Mapping[str, Any] | None,
) -> tuple[int, str, int | None]:
    """Stream the committed bytes to a scratch file: their size, SHA-256 (checked against
    `expected`) and, for CSV, the number of records."""
    with tempfile.TemporaryDirectory(prefix="moderately-") as scratch:
        path = Path(scratch) / "data"
        size, actual = await transfers.fetch_to_file(storage.store, version.storage_key, path)
        if expected is not None and actual != expected:
            await _fail(
                session, storage, version, "the stored bytes' SHA-256 differs from fileHash"
            )
        rows = await _count_rows(path, options) if version.file_type == "csv" else None
    return size, actual, rows


async def _fail(
    session: AsyncSession, storage: Storage, version: DatasetDataVersion, problem: str
) -> NoReturn:
    await transfers.fail_upload(session, storage, version, problem)
    raise InvalidState(f"upload failed: {problem}", field="dataVersion")


async def _parsing_options(session: AsyncSession, dataset_id: str) -> dict[str, Any] | None:
    """The current schema's parsing options (how to read the file), if the dataset has one."""
    return await session.scalar(
        select(DatasetSchemaVersion.parsing_options).where(
            DatasetSchemaVersion.dataset_id == dataset_id,
            DatasetSchemaVersion.status == VersionStatus.CURRENT,
        )
    )


async def _count_rows(path: Path, options: Mapping[str, Any] | None) -> int | None:
    try:
        return await anyio.to_thread.run_sync(functools.partial(tabular.count_rows, path, options))
    except ValueError:  # stored options were checked; kept as a safety net
        log.warning("could not count the rows of %s", path, exc_info=True)
        return None


async def download_url(
    session: AsyncSession, *, principal: Principal, storage: Storage, version_id: str
) -> DownloadTicket:
    """Any version whose bytes were uploaded and verified (400 otherwise)."""
    version = await get_version(session, principal=principal, version_id=version_id)
    return await transfers.presign_download(
        storage,
        version,
        content_type=CONTENT_TYPES.get(version.file_type, "application/octet-stream"),
        what=f"data version {version.dataset_data_version_id}",
        field="dataVersion",
        file_name=version.file_name,
        file_hash=version.file_hash or version.hash_hex,
        file_size=version.file_size_bytes,
    )


async def expire_pending_uploads(
    database: Database, storage: Storage, *, now: datetime | None = None
) -> int:
    return await transfers.expire_pending_uploads(database, storage, DatasetDataVersion, now=now)
