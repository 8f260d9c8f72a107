"""Asking for a dataset to be processed: the request side.

`request_processing` (PATCH or POST with `shouldProcess: true`) sets `processingStatus` to
`in_progress` and queues a `dataset.process` job in the same transaction; with no current data
version or no current schema it fails at once, with the reason in `processingError`. The job
itself runs on a worker (jobs/dataset_process.py). Status changes go through the lifecycle
(services/lifecycle.py).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import Dataset
from moderately.services.lifecycle import DATASET_PROCESSING
from moderately.statuses import ProcessingStatus
from moderately.workers.base import JobQueue

__all__ = ["PROCESS", "missing_input", "request_processing"]

PROCESS = "dataset.process"


async def request_processing(session: AsyncSession, jobs: JobQueue, dataset: Dataset) -> None:
    """Queue processing of `dataset` (whose row the caller holds) or fail it at once."""
    problem = missing_input(dataset)
    job_id = None
    if problem is None:
        payload = {"datasetId": dataset.dataset_id}
        job_id = await jobs.enqueue(session, PROCESS, payload, team_id=dataset.team_id)
    values = {"processing_job_id": job_id, "processing_error": problem, "processing_report": None}
    status = ProcessingStatus.FAILED if problem else ProcessingStatus.IN_PROGRESS
    await DATASET_PROCESSING.transition(session, dataset.dataset_id, status, values=values)


def missing_input(dataset: Dataset) -> str | None:
    if dataset.current_data_version_id is None:
        return "nothing to process: the dataset has no current data version (upload data first)"
    if dataset.current_schema_version_id is None:
        return "nothing to process against: the dataset has no current schema version"
    return None
