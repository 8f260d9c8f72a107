"""Processing a dataset: read the current data version with the current schema, record the result.

`request_processing` (PATCH or POST with `shouldProcess: true`) sets `processingStatus` to
`in_progress` and queues a `dataset.process` job in the same transaction; with no current data
version or no current schema it fails at once, with the reason in `processingError`. The job
(`run`, on a worker) streams the data from the object store to a temporary file and runs
`moderately.tabular.validate` in a worker thread: every record is counted (quoted line breaks,
BOM, no final newline) and every value checked against its column's type and `required`.

Outcome, written only if this job is still the dataset's latest request (a newer request, new
current data or a new current schema supersedes it):

* `completed`: `recordCount` = records read, `activeDataVersionId`/`activeDataSchemaVersionId` =
  the versions used, `processingReport` = the report (warnings, e.g. columns the schema ignores);
* `failed`: `processingError` (one line) and `processingReport` (counts per kind and column, and
  the first errors naming row, line, column and value; capped). The active versions stay those of
  the last successful run; no version changes status.

Binary data (an xlsx, an image, NUL bytes: `tabular.binary_kind`) fails at once with what it looks
like. Bad data is a processing result, never a job failure. A job fails (and is retried) only when
something outside the data broke (object store unreachable, database lost); when its attempts
are spent, `gave_up` marks the dataset failed with the reason.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from moderately import tabular
from moderately.db.models import Dataset, DatasetDataVersion, DatasetSchemaVersion
from moderately.db.session import Database
from moderately.services.transfers import Storage, fetch_to_file
from moderately.storage import ObjectNotFound
from moderately.workers.base import Job, JobKind, JobQueue

log = logging.getLogger("moderately.datasets")

PROCESS = "dataset.process"
IN_PROGRESS, COMPLETED, FAILED = "in_progress", "completed", "failed"
# Errors listed in a stored report (the counts are always complete).
MAX_REPORT_ERRORS = 50


def job_kinds(database: Database, storage: Storage) -> dict[str, JobKind]:
    return {
        PROCESS: JobKind(
            run=functools.partial(run, database, storage),
            gave_up=functools.partial(gave_up, database),
        )
    }


async def request_processing(session: AsyncSession, jobs: JobQueue, dataset: Dataset) -> None:
    """Queue processing of `dataset` (whose row the caller holds) or fail it at once."""
    problem = _missing_input(dataset)
    if problem is not None:
        _set(dataset, processing_status=FAILED, processing_job_id=None, processing_error=problem)
        return
    job_id = await jobs.enqueue(session, PROCESS, {"datasetId": dataset.dataset_id})
    _set(dataset, processing_status=IN_PROGRESS, processing_job_id=job_id, processing_error=None)


async def run(database: Database, storage: Storage, job: Job) -> None:
    dataset_id = str(job.payload["datasetId"])
    async with database.session(write=False) as session:
        dataset = await session.get(Dataset, dataset_id)
        if dataset is None or dataset.processing_job_id != job.job_id:
            return  # deleted, or superseded by a newer request
        problem = _missing_input(dataset)
        data = await _get(session, DatasetDataVersion, dataset.current_data_version_id)
        schema = await _get(session, DatasetSchemaVersion, dataset.current_schema_version_id)
    if problem is not None or data is None or schema is None:
        await _finish(database, job, processing_status=FAILED, processing_error=problem)
        return
    if data.file_type != "csv":
        problem = (
            f"data version {data.version_no} is {data.file_type}: only delimited text (CSV; "
            "TSV and other delimiters through the schema's parsingOptions) can be processed"
        )
        await _finish(database, job, processing_status=FAILED, processing_error=problem)
        return
    with tempfile.TemporaryDirectory(prefix="moderately-") as scratch:
        path = Path(scratch) / "data"
        try:
            await fetch_to_file(storage.store, data.storage_key, path)
        except ObjectNotFound:
            problem = f"the bytes of data version {data.version_no} are missing from the store"
            await _finish(database, job, processing_status=FAILED, processing_error=problem)
            return
        kind = await anyio.to_thread.run_sync(
            functools.partial(tabular.binary_kind, path, encoding=_encoding(schema))
        )
        if kind is not None:
            problem = (
                f"data version {data.version_no} is not delimited text: it looks like {kind}; "
                "only delimited text (CSV/TSV) can be processed"
            )
            await _finish(database, job, processing_status=FAILED, processing_error=problem)
            return
        check = functools.partial(
            tabular.validate,
            path,
            schema.columns_json,
            schema.parsing_options,
            max_errors=MAX_REPORT_ERRORS,
        )
        try:
            report = await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
        except ValueError as exc:  # stored schemas were checked; kept as a safety net
            problem = f"schema version {schema.version_no} cannot be applied: {exc}"
            await _finish(database, job, processing_status=FAILED, processing_error=problem)
            return
    if not report.ok:
        await _finish(
            database,
            job,
            processing_status=FAILED,
            processing_error=f"data version {data.version_no} does not match schema version "
            f"{schema.version_no}: {report.summary()}",
            processing_report=report.to_wire(),
        )
        return
    await _finish(
        database,
        job,
        processing_status=COMPLETED,
        processing_error=None,
        processing_report=report.to_wire(),
        record_count=report.record_count,
        active_data_version_id=data.dataset_data_version_id,
        active_data_schema_version_id=schema.dataset_schema_version_id,
    )


async def gave_up(database: Database, job: Job, reason: str) -> None:
    await _finish(
        database, job, processing_status=FAILED, processing_error=f"processing stopped: {reason}"
    )


def _encoding(schema: DatasetSchemaVersion) -> str | None:
    options = schema.parsing_options or {}
    encoding = options.get("encoding") if isinstance(options, dict) else None
    return encoding if isinstance(encoding, str) else None


def _missing_input(dataset: Dataset) -> str | None:
    if dataset.current_data_version_id is None:
        return "nothing to process: the dataset has no current data version (upload data first)"
    if dataset.current_schema_version_id is None:
        return "nothing to process against: the dataset has no current schema version"
    return None


async def _get(session: AsyncSession, model: Any, key: str | None) -> Any:
    return None if key is None else await session.get(model, key)


async def _finish(database: Database, job: Job, **values: Any) -> None:
    """Record the outcome, unless a newer request or new current inputs superseded this job."""
    values.setdefault("processing_report", None)
    async with database.session() as session:
        await session.execute(
            update(Dataset)
            .where(
                Dataset.dataset_id == str(job.payload["datasetId"]),
                Dataset.processing_job_id == job.job_id,
            )
            .values(processing_job_id=None, **values)
        )


def _set(dataset: Dataset, **values: Any) -> None:
    values.setdefault("processing_report", None)
    for name, value in values.items():
        setattr(dataset, name, value)
