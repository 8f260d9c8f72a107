"""Datasets: team-owned, uniquely named tables with versioned data and schemas.

A dataset points at its `current` data version and its `current` schema version. Making a version
current goes through `promote_data_version` / `promote_schema_version`, which demote the previous
one in the same transaction, after `lock_dataset` has taken the dataset's row (PostgreSQL: `FOR
UPDATE`, db/dialect.py), so two promotions of one dataset run one after the other. A partial
unique index on each version table backs the rule in the database.

`processingStatus`: null (never processed), `needs-processing` (the current data or schema
changed since), `in_progress` (queued or running; the wire has no separate "pending"),
`completed`, `failed` (services/dataset_processing.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from moderately.db.dialect import for_update
from moderately.db.models import Dataset, DatasetDataVersion, DatasetSchemaVersion
from moderately.errors import NotFound
from moderately.services import dataset_processing, object_removals
from moderately.services.auth import Principal
from moderately.services.filters import ListFilters, Values, equal, filtered, like, one_of
from moderately.services.lifecycle import DATASET_PROCESSING
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.scope import (
    ensure_unique_name,
    get_in_team,
    get_scoped,
    rename,
    team_for_create,
)
from moderately.services.transfers import Storage
from moderately.statuses import ProcessingStatus, VersionStatus
from moderately.workers.base import JobQueue

SORT = {"createdAt": Dataset.created_at, "updatedAt": Dataset.updated_at, "name": Dataset.name}


class DatasetFilters(ListFilters):
    team_column = Dataset.team_id
    dataset_ids: Annotated[
        Values,
        Field(alias="datasetIds", description="alias: dataset_ids"),
        one_of(Dataset.dataset_id),
    ] = None
    name: Annotated[str | None, Field(description="exact name"), equal(Dataset.name)] = None
    name_like: Annotated[
        str | None,
        Field(alias="nameLike", description="case-insensitive substring"),
        like(Dataset.name),
    ] = None


async def list_datasets(
    session: AsyncSession, *, principal: Principal, params: PageParams, filters: DatasetFilters
) -> Page[Dataset]:
    stmt = filtered(select(Dataset), filters, principal)
    return await paginate(
        session, stmt, params=params, sort_columns=SORT, id_column=Dataset.dataset_id
    )


async def get_dataset(
    session: AsyncSession, *, principal: Principal, dataset_id: str, lock: bool = False
) -> Dataset:
    return await get_scoped(session, Dataset, dataset_id, principal, lock=lock)


async def lock_dataset(session: AsyncSession, dataset_id: str) -> Dataset:
    """The dataset's row, locked until the transaction ends (version numbers, promotions)."""
    dataset = await session.scalar(
        for_update(select(Dataset).where(Dataset.dataset_id == dataset_id))
    )
    if dataset is None:  # deleted meanwhile
        raise NotFound("dataset", dataset_id)
    return dataset


async def require_dataset(session: AsyncSession, *, team_id: str, dataset_id: str) -> None:
    """Raise NotFound unless `dataset_id` is a dataset of `team_id` (files link to datasets)."""
    if await get_in_team(session, Dataset, dataset_id, team_id) is None:
        raise NotFound("dataset", dataset_id)


async def create_dataset(
    session: AsyncSession,
    *,
    principal: Principal,
    jobs: JobQueue,
    name: str,
    description: str | None = None,
    team_id: str | None = None,
    request_team_ids: Sequence[str] = (),
    should_process: bool = False,
) -> Dataset:
    principal.require_write()
    team_id = team_for_create(principal, team_id=team_id, request_team_ids=request_team_ids)
    await ensure_unique_name(
        session, Dataset.dataset_id, what="a dataset", team_id=team_id, name=name
    )
    dataset = Dataset(team_id=team_id, name=name, description=description)
    session.add(dataset)
    await session.flush()
    if should_process:
        await dataset_processing.request_processing(session, jobs, dataset)
    await session.flush()
    return dataset


async def update_dataset(
    session: AsyncSession,
    *,
    principal: Principal,
    jobs: JobQueue,
    dataset_id: str,
    changes: Mapping[str, Any],
) -> Dataset:
    """Name and description never touch `processingStatus`; `should_process=True` queues
    processing of the current data with the current schema."""
    process = bool(changes.get("should_process"))
    dataset = await get_dataset(session, principal=principal, dataset_id=dataset_id, lock=process)
    principal.require_write()
    await rename(session, dataset, Dataset.dataset_id, changes.get("name"), what="a dataset")
    if "description" in changes:
        dataset.description = changes["description"]
    if process:
        await dataset_processing.request_processing(session, jobs, dataset)
    await session.flush()
    await session.refresh(dataset)
    return dataset


def stored_prefix(team_id: str, dataset_id: str) -> str:
    """Every object of a dataset (its data versions: services/dataset_data.object_key)."""
    return f"teams/{team_id}/datasets/{dataset_id}/"


async def delete_dataset(
    session: AsyncSession, *, principal: Principal, storage: Storage, dataset_id: str
) -> None:
    """The dataset and its versions (ON DELETE CASCADE), then (once that committed) the stored
    bytes of every data version, uploads in progress included (services/object_removals.py).
    Linked files are unlinked."""
    dataset = await get_dataset(session, principal=principal, dataset_id=dataset_id)
    principal.require_write()
    await session.execute(delete(Dataset).where(Dataset.dataset_id == dataset.dataset_id))
    session.expunge(dataset)
    await object_removals.schedule(session, [stored_prefix(dataset.team_id, dataset.dataset_id)])
    await object_removals.remove_after_commit(session, storage)


# ---- versions (data and schema versions are numbered, scoped and promoted alike) ----


# ---- promotions (the caller holds the dataset's lock) ----


async def _archive_other_current(
    session: AsyncSession, id_column: InstrumentedAttribute[str], dataset_id: str, keep: str
) -> None:
    model: Any = id_column.class_
    await session.execute(
        update(model)
        .where(
            model.dataset_id == dataset_id, model.status == VersionStatus.CURRENT, id_column != keep
        )
        .values(status=VersionStatus.ARCHIVED)
        .execution_options(synchronize_session=False)
    )


async def promote_data_version(
    session: AsyncSession, dataset: Dataset, version: DatasetDataVersion
) -> None:
    """`version` becomes the current data (the previous current is archived); the dataset's
    counters follow it and it needs processing again."""
    await _archive_other_current(
        session,
        DatasetDataVersion.dataset_data_version_id,
        dataset.dataset_id,
        version.dataset_data_version_id,
    )
    version.status = VersionStatus.CURRENT
    dataset.current_data_version_id = version.dataset_data_version_id
    dataset.record_count = version.row_count
    dataset.total_size_bytes = version.file_size_bytes
    await _needs_processing(session, dataset)


async def promote_schema_version(
    session: AsyncSession, dataset: Dataset, version: DatasetSchemaVersion
) -> None:
    """`version` becomes the current schema (the previous current is archived)."""
    await _archive_other_current(
        session,
        DatasetSchemaVersion.dataset_schema_version_id,
        dataset.dataset_id,
        version.dataset_schema_version_id,
    )
    version.status = VersionStatus.CURRENT
    dataset.current_schema_version_id = version.dataset_schema_version_id
    await schema_changed(session, dataset)


async def schema_changed(session: AsyncSession, dataset: Dataset) -> None:
    """The current schema changed: data already there needs processing again."""
    if dataset.current_data_version_id is not None:
        await _needs_processing(session, dataset)
    await session.flush()


async def _needs_processing(session: AsyncSession, dataset: Dataset) -> None:
    # A run in flight worked on the previous inputs: its result no longer counts.
    await DATASET_PROCESSING.transition(
        session,
        dataset.dataset_id,
        ProcessingStatus.NEEDS_PROCESSING,
        values={"processing_job_id": None, "processing_error": None, "processing_report": None},
    )
