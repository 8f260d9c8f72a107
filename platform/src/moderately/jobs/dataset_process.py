"""The `dataset.process` job: read the current data version with the current schema, record the
result (services/dataset_processing.py queues it).

`run`, inside the job's own process (jobs/isolation.py), streams the data from the object store to
a temporary file and runs `moderately.tabular.validate`: every record is counted (quoted line
breaks, BOM, no final newline) and every value checked against its column's type and `required`.

Outcome, written only while this job is still the dataset's latest request (a newer request, new
current data or a new current schema supersedes it; the worker then ends the process at once):

* `completed`: `recordCount` = records read, `activeDataVersionId`/`activeDataSchemaVersionId` =
  the versions used, `processingReport` = the report (warnings, e.g. columns the schema ignores);
* `failed`: `processingError` (one line) and `processingReport` (counts per kind and column, and
  the first errors naming row, line, column and value; capped). The active versions stay those of
  the last successful run; no version changes status.

Binary data (an xlsx, an image, NUL bytes: `tabular.binary_kind`) fails at once with what it looks
like. Bad data is a processing result, never a job failure. A job fails (and is retried) only when
something outside the data broke (object store unreachable, database lost); when its attempts
are spent, `gave_up` marks the dataset failed with the reason; over a budget (memory, wall time)
the worker ends it and `stopped` marks the dataset failed naming the budget.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from moderately import tabular
from moderately.db.models import Dataset, DatasetDataVersion, DatasetSchemaVersion
from moderately.db.session import Database
from moderately.jobs.base import JobHandler, JobRuntime, Stop
from moderately.services.dataset_processing import PROCESS, missing_input
from moderately.services.lifecycle import DATASET_PROCESSING
from moderately.services.transfers import Storage, fetch_to_file
from moderately.statuses import ProcessingStatus
from moderately.storage import ObjectNotFound
from moderately.workers.base import Job

log = logging.getLogger("moderately.datasets")

__all__ = ["handlers"]

# Errors listed in a stored report (the counts are always complete).
MAX_REPORT_ERRORS = 50


def handlers(runtime: JobRuntime) -> dict[str, JobHandler]:
    database = runtime.database

    async def run_job(job: Job) -> None:
        await run(database, runtime.storage, job)

    async def gave_up(job: Job, reason: str) -> None:
        problem = f"processing stopped: {reason}"
        await _finish(
            database, job, processing_status=ProcessingStatus.FAILED, processing_error=problem
        )

    async def superseded(job: Job) -> bool:
        async with database.session(write=False) as session:
            dataset = await session.get(Dataset, _dataset_id(job))
            return dataset is None or dataset.processing_job_id != job.job_id

    async def stopped(job: Job, stop: Stop) -> None:
        if stop.kind == "resource_limit":
            await _finish(
                database,
                job,
                processing_status=ProcessingStatus.FAILED,
                processing_error=stop.message,
            )

    return {
        PROCESS: JobHandler(
            run=run_job,
            timeout_seconds=runtime.settings.dataset_timeout_seconds,
            timeout_setting="MODERATELY_DATASET_TIMEOUT_SECONDS",
            gave_up=gave_up,
            stop_requested=superseded,
            stopped=stopped,
        )
    }


def _dataset_id(job: Job) -> str:
    return str(job.payload["datasetId"])


async def run(database: Database, storage: Storage, job: Job) -> None:
    async with database.session(write=False) as session:
        dataset = await session.get(Dataset, _dataset_id(job))
        if dataset is None or dataset.processing_job_id != job.job_id:
            return  # deleted, or superseded by a newer request
        problem = missing_input(dataset)
        data = await _get(session, DatasetDataVersion, dataset.current_data_version_id)
        schema = await _get(session, DatasetSchemaVersion, dataset.current_schema_version_id)
    if problem is not None or data is None or schema is None:
        await _finish(
            database, job, processing_status=ProcessingStatus.FAILED, processing_error=problem
        )
        return
    if data.file_type != "csv":
        problem = (
            f"data version {data.version_no} is {data.file_type}: only delimited text (CSV; "
            "TSV and other delimiters through the schema's parsingOptions) can be processed"
        )
        await _finish(
            database, job, processing_status=ProcessingStatus.FAILED, processing_error=problem
        )
        return
    # This process is the job's own: the reads below may use the CPU as long as they need.
    with tempfile.TemporaryDirectory(prefix="moderately-") as scratch:
        path = Path(scratch) / "data"
        try:
            await fetch_to_file(storage.store, data.storage_key, path)
        except ObjectNotFound:
            problem = f"the bytes of data version {data.version_no} are missing from the store"
            await _finish(
                database, job, processing_status=ProcessingStatus.FAILED, processing_error=problem
            )
            return
        kind = tabular.binary_kind(path, encoding=_encoding(schema))
        if kind is not None:
            problem = (
                f"data version {data.version_no} is not delimited text: it looks like {kind}; "
                "only delimited text (CSV/TSV) can be processed"
            )
            await _finish(
                database, job, processing_status=ProcessingStatus.FAILED, processing_error=problem
            )
            return
        try:
            report = tabular.validate(
                path, schema.columns_json, schema.parsing_options, max_errors=MAX_REPORT_ERRORS
            )
        except ValueError as exc:  # stored schemas were checked; kept as a safety net
            problem = f"schema version {schema.version_no} cannot be applied: {exc}"
            await _finish(
                database, job, processing_status=ProcessingStatus.FAILED, processing_error=problem
            )
            return
    if not report.ok:
        await _finish(
            database,
            job,
            processing_status=ProcessingStatus.FAILED,
            processing_error=f"data version {data.version_no} does not match schema version "
            f"{schema.version_no}: {report.summary()}",
            processing_report=report.to_wire(),
        )
        return
    await _finish(
        database,
        job,
        processing_status=ProcessingStatus.COMPLETED,
        processing_error=None,
        processing_report=report.to_wire(),
        record_count=report.record_count,
        active_data_version_id=data.dataset_data_version_id,
        active_data_schema_version_id=schema.dataset_schema_version_id,
    )


def _encoding(schema: DatasetSchemaVersion) -> str | None:
    options = schema.parsing_options or {}
    encoding = options.get("encoding") if isinstance(options, dict) else None
    return encoding if isinstance(encoding, str) else None


async def _get(session: AsyncSession, model: Any, key: str | None) -> Any:
    return None if key is None else await session.get(model, key)


async def _finish(database: Database, job: Job, *, processing_status: str, **values: Any) -> None:
    """Record the outcome, unless a newer request or new current inputs superseded this job."""
    values.setdefault("processing_report", None)
    async with database.session() as session:
        await DATASET_PROCESSING.transition(
            session,
            _dataset_id(job),
            processing_status,
            guard={"processing_job_id": job.job_id},
            values={"processing_job_id": None, **values},
        )
