"""Dataset schema versions: columns and parsing options, numbered per dataset.

Columns and parsing options are checked by the data engine's own parsers
(`tabular.Column.from_wire`, `tabular.ParsingOptions.from_wire`: camelCase or snake_case option
keys, `nullable` or `required`, the SDK's type aliases) and stored in their normalised wire form,
so processing reads exactly what was accepted. A rejected value is a 400 naming the field.

Status rules: a version that becomes `current` (at create or by PATCH) archives the previous
current and the dataset points at it; a current version that is archived (or set back to draft)
clears the pointer. Changing the current schema's columns or options marks data that is already
there as needing processing again.

`infer_schema` reads an uploaded file (files API) or data version with the server's engine and
proposes columns and parsing options (`tabular.infer`): an extension for the SDK's
`create_schema_from_sample`. The reading runs in a worker's job (jobs/dataset_infer.py) the
request waits for (services/job_requests.py), never in the API process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately import tabular
from moderately.db.models import DatasetSchemaVersion
from moderately.db.session import Database
from moderately.errors import Invalid, InvalidState
from moderately.schemas.datasets import MAX_VERSION_NO
from moderately.services import dataset_data, datasets, files, job_requests
from moderately.services.auth import Principal
from moderately.services.filters import ListFilters, Values, equal, filtered, one_of
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.scope import get_scoped
from moderately.statuses import UploadStatus, VersionStatus
from moderately.workers.base import JobQueue

SORT = {
    "createdAt": DatasetSchemaVersion.created_at,
    "updatedAt": DatasetSchemaVersion.updated_at,
    "versionNo": DatasetSchemaVersion.version_no,
}
MAX_COLUMNS = tabular.MAX_COLUMNS
# The job that infers a schema (jobs/dataset_infer.py).
INFER = "dataset.infer"


# ---- checking what clients send ----


def checked_columns(
    items: Sequence[Mapping[str, Any]], field: str = "columns"
) -> list[dict[str, Any]]:
    """The columns in their normalised wire form; 400 naming the first bad item."""
    if not items:
        raise Invalid("a schema needs at least one column", field=field)
    if len(items) > MAX_COLUMNS:
        raise Invalid(f"a schema has at most {MAX_COLUMNS} columns", field=field)
    columns: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        try:
            column = tabular.Column.from_wire(item)
        except ValueError as exc:
            raise Invalid(f"{field}[{index}]: {exc}", field=f"{field}[{index}]") from None
        if column.name in seen:
            raise Invalid(
                f"{field}[{index}]: column name {column.name!r} is used twice",
                field=f"{field}[{index}].name",
            )
        seen.add(column.name)
        columns.append(column.to_wire())
    return columns


def checked_options(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Parsing options in their normalised wire form (defaults filled in); 400 when invalid."""
    try:
        return tabular.ParsingOptions.from_wire(data).to_wire()
    except (ValueError, TypeError) as exc:
        raise Invalid(f"parsingOptions: {exc}", field="parsingOptions") from None


# ---- reads ----


class SchemaVersionFilters(ListFilters):
    team_column = DatasetSchemaVersion.team_id
    version_ids: Annotated[
        Values,
        Field(alias="datasetSchemaVersionIds"),
        one_of(DatasetSchemaVersion.dataset_schema_version_id),
    ] = None
    dataset_ids: Annotated[
        Values, Field(alias="datasetIds"), one_of(DatasetSchemaVersion.dataset_id)
    ] = None
    status: Annotated[VersionStatus | None, equal(DatasetSchemaVersion.status)] = None
    version_no: Annotated[
        int | None,
        Field(alias="versionNo", ge=1, le=MAX_VERSION_NO),
        equal(DatasetSchemaVersion.version_no),
    ] = None


async def list_schema_versions(
    session: AsyncSession,
    *,
    principal: Principal,
    params: PageParams,
    filters: SchemaVersionFilters,
) -> Page[DatasetSchemaVersion]:
    model = DatasetSchemaVersion
    stmt = filtered(select(model), filters, principal)
    return await paginate(
        session, stmt, params=params, sort_columns=SORT, id_column=model.dataset_schema_version_id
    )


async def get_schema_version(
    session: AsyncSession, *, principal: Principal, version_id: str
) -> DatasetSchemaVersion:
    return await get_scoped(session, DatasetSchemaVersion, version_id, principal)


# ---- changes ----


async def create_schema_version(
    session: AsyncSession,
    *,
    principal: Principal,
    dataset_id: str,
    columns: Sequence[Mapping[str, Any]],
    status: VersionStatus = VersionStatus.DRAFT,
    parsing_options: Mapping[str, Any] | None = None,
) -> DatasetSchemaVersion:
    # Locked: the version number and a promotion are this transaction's alone.
    dataset = await datasets.get_dataset(
        session, principal=principal, dataset_id=dataset_id, lock=True
    )
    principal.require_write()
    columns_json = checked_columns(columns)
    options = checked_options(parsing_options)
    last = await session.scalar(
        select(func.max(DatasetSchemaVersion.version_no)).where(
            DatasetSchemaVersion.dataset_id == dataset.dataset_id
        )
    )
    version = DatasetSchemaVersion(
        dataset_id=dataset.dataset_id,
        team_id=dataset.team_id,
        version_no=(last or 0) + 1,
        status=VersionStatus.DRAFT if status == VersionStatus.CURRENT else status,
        columns_json=columns_json,
        parsing_options=options,
    )
    session.add(version)
    await session.flush()
    if status == VersionStatus.CURRENT:
        await datasets.promote_schema_version(session, dataset, version)
    return version


async def update_schema_version(
    session: AsyncSession, *, principal: Principal, version_id: str, changes: Mapping[str, Any]
) -> DatasetSchemaVersion:
    version = await get_schema_version(session, principal=principal, version_id=version_id)
    principal.require_write()
    columns = changes.get("columns")
    columns_json = checked_columns(columns) if columns is not None else None
    options = changes.get("parsing_options")
    options_json = checked_options(options) if options is not None else None
    dataset = await datasets.lock_dataset(session, version.dataset_id)
    await session.refresh(version)
    was_current = version.status == VersionStatus.CURRENT
    if columns_json is not None:
        version.columns_json = columns_json
    if options_json is not None:
        version.parsing_options = options_json
    status = changes.get("status")
    if status == VersionStatus.CURRENT and not was_current:
        await datasets.promote_schema_version(session, dataset, version)
    elif status is not None and status != VersionStatus.CURRENT and was_current:
        version.status = status
        dataset.current_schema_version_id = None
    elif status is not None:
        version.status = status
    redefined = columns_json is not None or options_json is not None
    if was_current and version.status == VersionStatus.CURRENT and redefined:
        await datasets.schema_changed(session, dataset)
    await session.flush()
    await session.refresh(version)
    return version


# ---- inference ----


async def infer_schema(
    session: AsyncSession,
    *,
    principal: Principal,
    database: Database,
    jobs: JobQueue,
    wait_seconds: float,
    file_id: str | None = None,
    data_version_id: str | None = None,
    parsing_options: Mapping[str, Any] | None = None,
    sample_rows: int | None = None,
) -> dict[str, Any]:
    """Columns (types from the values, not the header) and parsing options (sniffed unless
    given; partial options keep what they give, the rest is sniffed) of an uploaded file or data
    version, read with the server's engine in a worker's job (jobs/dataset_infer.py), whose
    answer (the wire form of the `InferredSchema`) this returns. Access, the upload's status and
    the options are checked here first: those errors queue nothing. Binary input (xlsx, images,
    NUL bytes): 400; no worker answering within `wait_seconds`: 503."""
    if file_id is None and data_version_id is None:
        raise Invalid(
            "name the sample: fileId (an uploaded file) or datasetDataVersionId",
            field="fileId",
        )
    if file_id is not None:  # it wins when both are named
        row: Any = await files.get_file(session, principal=principal, file_id=file_id)
        what, field = f"file {file_id}", "fileId"
    else:
        assert data_version_id is not None
        row = await dataset_data.get_version(
            session, principal=principal, version_id=data_version_id
        )
        what, field = f"data version {data_version_id}", "datasetDataVersionId"
    if row.upload_status != UploadStatus.COMPLETED:
        raise InvalidState(f"upload not completed: {what} is {row.upload_status}", field=field)
    if parsing_options is not None:
        checked_options(parsing_options)  # 400 when invalid; what it leaves out is sniffed
    payload = {
        "storageKey": row.storage_key,
        "what": what,
        "parsingOptions": dict(parsing_options) if parsing_options is not None else None,
        "sampleRows": sample_rows,
    }
    team_id = row.team_id
    await session.commit()  # no transaction (no SQLite write lock) while the job runs
    return await job_requests.run_and_wait(
        database,
        jobs,
        INFER,
        payload,
        team_id=team_id,
        timeout=wait_seconds,
        field=field,
        what="schema inference",
        wait_setting="MODERATELY_INFER_WAIT_SECONDS",
    )
