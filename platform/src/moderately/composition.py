"""How the parts are put together from Settings, for the API server, the worker processes and the
jobs' own processes: the object store (and the local store's signing secret), the storage rules,
the job queue, and the worker process itself (`moderately worker`).

Who runs what:

* the API process (app.py) enqueues jobs in the request's transaction and, by default,
  supervises `workers` worker processes (workers/supervisor.py); it never runs a job;
* a worker process (`run_worker`) runs claim loops per job kind (workers/loops.py, or
  procrastinate's worker) and hands each job to a process of its own (jobs/isolation.py);
* a job's process (jobs/child.py) opens its own `job_runtime` and runs the handler (jobs/).

Any number of worker processes can run on any number of machines against the same database and
object store: claims are atomic, and a worker that dies (even by SIGKILL) stops renewing its
leases, so another worker's recovery loop hands its jobs on once the lease is over (retried, or
failed with `worker_lost` when the attempts are spent).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import anyio.to_thread

from moderately.config import Settings
from moderately.db.session import Database
from moderately.jobs import child
from moderately.jobs.base import JobRuntime
from moderately.private_files import make_private_dir
from moderately.services.transfers import Storage
from moderately.storage import ObjectStore, open_store
from moderately.workers import ClaimLoops, DbQueue, JobKind, JobQueue

log = logging.getLogger("moderately.workers")

__all__ = [
    "job_queue",
    "job_runtime",
    "open_object_store",
    "prepare_queue",
    "run_worker",
    "serve_worker",
    "signing_secret",
    "storage_for",
    "storage_location",
]

_SECRET_BYTES = 32
# Database connections a worker or job process keeps (beyond them it opens and closes more).
JOB_POOL_SIZE = 2


# ---- the object store ----


def storage_location(settings: Settings) -> str:
    """`storage_url`, or the local store's default directory in the data dir."""
    return settings.storage_url or str((settings.data_dir / "objects").absolute())


def signing_secret(settings: Settings) -> str:
    """The local store's HMAC key: the setting, else the one kept in the data dir.

    Made once, mode 0600 from its first byte, and published with a hard link, which fails
    when the file already exists: processes starting together all end up reading the one
    secret that won, never a half-written file.
    """
    if settings.signing_secret:
        return settings.signing_secret
    path = settings.signing_secret_file
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    make_private_dir(path.parent)
    candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(_SECRET_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(candidate, path)
    finally:
        candidate.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    secret = path.read_text().strip()
    if len(secret) < 16:
        raise RuntimeError(f"{path} holds no usable signing secret (16 characters at least)")
    return secret


async def open_object_store(settings: Settings) -> ObjectStore:
    """The configured store, set up (directories made, bucket checked or created)."""
    location = storage_location(settings)
    if location.startswith("s3://"):
        return await open_store(
            location, access_key=settings.s3_access_key, secret_key=settings.s3_secret_key
        )
    return await open_store(location, signing_secret=signing_secret(settings))


def storage_for(settings: Settings, store: ObjectStore) -> Storage:
    return Storage(
        store=store,
        max_upload_bytes=settings.max_upload_bytes,
        upload_ttl_seconds=settings.upload_url_ttl_seconds,
        download_ttl_seconds=settings.download_url_ttl_seconds,
        pending_grace_seconds=settings.pending_upload_grace_seconds,
    )


@contextlib.asynccontextmanager
async def job_runtime(settings: Settings) -> AsyncIterator[JobRuntime]:
    """A database engine and the object store, for the life of a worker or a job's process
    (each holds few connections: there are many of them, and PostgreSQL counts them all)."""
    database = Database(settings, pool_size=JOB_POOL_SIZE)
    try:
        store = await open_object_store(settings)
        try:
            yield JobRuntime(database, storage_for(settings, store), settings)
        finally:
            await store.aclose()
    finally:
        await database.dispose()


# ---- the job queue ----


def uses_procrastinate(settings: Settings) -> bool:
    return settings.job_backend == "procrastinate"


def job_queue(database: Database, settings: Settings) -> JobQueue:
    if uses_procrastinate(settings):
        from moderately.workers.procrastinate_backend import ProcrastinateQueue

        return ProcrastinateQueue(
            max_attempts=settings.job_max_attempts, team_cap=settings.team_running_jobs
        )
    return DbQueue(
        database,
        lease_seconds=settings.job_lease_seconds,
        max_attempts=settings.job_max_attempts,
        team_cap=settings.team_running_jobs,
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


def job_slots(settings: Settings) -> dict[str, int]:
    """Jobs of each kind one worker process runs at once."""
    from moderately.jobs.dataset_infer import INFER
    from moderately.jobs.dataset_process import PROCESS
    from moderately.jobs.pipeline_execute import EXECUTE
    from moderately.services.agent_executions import EXECUTE as AGENT_EXECUTE

    # Inference has loops of its own (as many as processing): a request waits for it.
    return {
        EXECUTE: settings.worker_pipeline_slots,
        AGENT_EXECUTE: settings.worker_agent_slots,
        PROCESS: settings.worker_dataset_slots,
        INFER: settings.worker_dataset_slots,
    }


# ---- the worker process ----


class WorkerPool(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def wake(self) -> None: ...


class ProcrastinatePool:
    """procrastinate's workers (one per job kind, each with its slots) as tasks of this process."""

    def __init__(self, settings: Settings, kinds: dict[str, JobKind]) -> None:
        self.settings = settings
        self.kinds = kinds
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from moderately.workers.procrastinate_backend import run_procrastinate_worker

        self._stop.clear()
        self._task = asyncio.create_task(
            run_procrastinate_worker(
                self.settings.database_url or "",
                self.kinds,
                slots=job_slots(self.settings),
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

    def wake(self) -> None:
        """procrastinate's workers listen for new jobs themselves."""


def worker_pool(settings: Settings, runtime: JobRuntime, queue: JobQueue) -> WorkerPool:
    """The claim loops of the configured backend; every job runs in a process of its own."""
    from moderately.jobs import job_handlers
    from moderately.jobs.isolation import IsolatedJobs

    kinds = IsolatedJobs(settings, job_handlers(runtime)).kinds()
    if uses_procrastinate(settings):
        return ProcrastinatePool(settings, kinds)
    assert isinstance(queue, DbQueue)
    return ClaimLoops(
        queue,
        kinds,
        slots=job_slots(settings),
        poll_interval=settings.job_poll_interval_seconds,
        recovery_interval=settings.job_recovery_interval_seconds,
    )


async def run_worker(
    settings: Settings,
    *,
    stop: asyncio.Event,
    on_started: Callable[[WorkerPool], None] | None = None,
) -> None:
    """Work the queue until `stop` is set; jobs cut short go back to the queue."""
    for name in child.job_modules(settings):  # e.g. custom block types
        importlib.import_module(name)
    from moderately.jobs.isolation import start_forkserver

    await anyio.to_thread.run_sync(start_forkserver, settings)
    async with job_runtime(settings) as runtime:
        queue = job_queue(runtime.database, settings)
        workers = worker_pool(settings, runtime, queue)
        await workers.start()
        slots = ", ".join(f"{kind} x{count}" for kind, count in job_slots(settings).items())
        log.info("worker %d started (%s)", os.getpid(), slots)
        if on_started is not None:
            on_started(workers)
        try:
            await stop.wait()
        finally:
            await workers.stop()


def serve_worker(settings: Settings, *, supervised: bool = False) -> None:
    """Blocking: run a worker until SIGINT or SIGTERM. A supervised worker (started by
    `moderately serve`) also wakes on each byte its server writes to its standard input and
    stops when that pipe closes (the server is gone)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)

        def listen(workers: WorkerPool) -> None:
            def readable() -> None:
                try:
                    data = os.read(sys.stdin.fileno(), 4096)
                except OSError:
                    data = b""
                if data:
                    workers.wake()
                else:
                    loop.remove_reader(sys.stdin.fileno())
                    stop.set()

            loop.add_reader(sys.stdin.fileno(), readable)

        await run_worker(settings, stop=stop, on_started=listen if supervised else None)

    asyncio.run(main())
