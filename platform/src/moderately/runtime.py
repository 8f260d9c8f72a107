"""What the API server and standalone workers share: the storage rules, the job kinds, and the
worker process itself (`moderately worker`).

A standalone worker runs the same claim loops as the server's in-process workers, against the
same database and object store, so any number of them can run on any number of machines: claims
are atomic (`FOR UPDATE SKIP LOCKED` on PostgreSQL), and a worker that dies (even by SIGKILL)
stops renewing its leases, so another worker's recovery loop hands its jobs on once the lease is
over (retried, or failed with `worker_lost` when the attempts are spent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from moderately.config import Settings
from moderately.db.session import Database
from moderately.objects import open_object_store
from moderately.services import dataset_processing, pipeline_runner
from moderately.services.transfers import Storage
from moderately.storage import ObjectStore
from moderately.workers import DbQueue, InProcessWorkers, JobKind, JobQueue

log = logging.getLogger("moderately.workers")


def storage_for(settings: Settings, store: ObjectStore) -> Storage:
    return Storage(
        store=store,
        max_upload_bytes=settings.max_upload_bytes,
        upload_ttl_seconds=settings.upload_url_ttl_seconds,
        download_ttl_seconds=settings.download_url_ttl_seconds,
        pending_grace_seconds=settings.pending_upload_grace_seconds,
    )


def runner_settings(settings: Settings) -> pipeline_runner.RunnerSettings:
    return pipeline_runner.RunnerSettings(
        inline_output_bytes=settings.pipeline_inline_output_bytes,
        timeout_seconds=settings.pipeline_timeout_seconds,
        parallel_blocks=settings.pipeline_parallel_blocks,
    )


def job_kinds(database: Database, storage: Storage, settings: Settings) -> dict[str, JobKind]:
    """Every kind of background job, by name."""
    return {
        **dataset_processing.job_kinds(database, storage),
        **pipeline_runner.job_kinds(database, storage, runner_settings(settings)),
    }


def uses_procrastinate(settings: Settings) -> bool:
    return settings.job_backend == "procrastinate"


def job_queue(database: Database, settings: Settings) -> JobQueue:
    if uses_procrastinate(settings):
        from moderately.workers.procrastinate_backend import ProcrastinateQueue

        return ProcrastinateQueue(max_attempts=settings.job_max_attempts)
    return DbQueue(
        database, lease_seconds=settings.job_lease_seconds, max_attempts=settings.job_max_attempts
    )


def prepare_queue(settings: Settings) -> None:
    """Blocking: the queue's own schema (procrastinate's tables), after the migrations."""
    if not uses_procrastinate(settings):
        return
    if not (settings.database_url or "").startswith("postgresql"):
        raise ValueError("job_backend=procrastinate needs a PostgreSQL database_url")
    from moderately.workers.procrastinate_backend import apply_schema

    url = settings.database_url or ""
    # Callable from inside an event loop too (tests start servers from async code).
    with ThreadPoolExecutor(1) as pool:
        if pool.submit(asyncio.run, apply_schema(url)).result():
            log.info("applied the procrastinate schema")


class WorkerPool(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ProcrastinatePool:
    """procrastinate's worker as a task of this process."""

    def __init__(self, settings: Settings, kinds: dict[str, JobKind], *, concurrency: int) -> None:
        self.settings = settings
        self.kinds = kinds
        self.concurrency = concurrency
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from moderately.workers.procrastinate_backend import run_procrastinate_worker

        self._stop.clear()
        self._task = asyncio.create_task(
            run_procrastinate_worker(
                self.settings.database_url or "",
                self.kinds,
                concurrency=self.concurrency,
                stop=self._stop,
                stalled_after=self.settings.job_lease_seconds,
                sweep_interval=self.settings.job_recovery_interval_seconds,
            )
        )

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def worker_pool(
    settings: Settings,
    database: Database,
    storage: Storage,
    queue: JobQueue,
    *,
    concurrency: int,
) -> WorkerPool:
    """The workers of the configured backend, running `concurrency` jobs at once."""
    kinds = job_kinds(database, storage, settings)
    if uses_procrastinate(settings):
        return ProcrastinatePool(settings, kinds, concurrency=concurrency)
    assert isinstance(queue, DbQueue)
    return InProcessWorkers(
        queue,
        kinds,
        concurrency=concurrency,
        poll_interval=settings.job_poll_interval_seconds,
        recovery_interval=settings.job_recovery_interval_seconds,
    )


async def run_worker(settings: Settings, *, concurrency: int, stop: asyncio.Event) -> None:
    """Work the queue until `stop` is set; jobs cut short go back to the queue."""
    database = Database(settings)
    store = await open_object_store(settings)
    storage = storage_for(settings, store)
    queue = job_queue(database, settings)
    workers = worker_pool(settings, database, storage, queue, concurrency=concurrency)
    await workers.start()
    log.info("worker started: %d claim loops", concurrency)
    try:
        await stop.wait()
    finally:
        await workers.stop()
        await store.aclose()
        await database.dispose()


def serve_worker(settings: Settings, *, concurrency: int) -> None:
    """Blocking: run a worker until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        await run_worker(settings, concurrency=concurrency, stop=stop)

    asyncio.run(main())
