"""`moderately serve --api-workers N` (N > 1): N API processes sharing one listening socket.

uvicorn's own supervisor binds the socket in this (the parent) process, starts N processes that
each accept on it (and restarts one that dies), and stops them on SIGINT/SIGTERM. Each builds its
app with `app_from_environment`: the parent hands its settings down as `MODERATELY_*` variables,
with no job workers and no migrations of their own (the parent migrated already).

The job workers (`--workers`) are supervised once, by the parent, on an event loop of its own in
a thread (`JobWorkers`), not by every API process. Work that must run in one process only (the
periodic sweeps) is guarded by a lock in the database (periodic_sweeps.py), which also covers
servers on other machines; the rate limits are kept in the database (services/rate_limits.py).

What N processes change: the API processes do not wake the parent's job workers when they
enqueue (they are other processes), so a job is picked up at the workers' next poll
(`job_poll_interval_seconds`) rather than at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

from fastapi import FastAPI

from moderately.config import Settings
from moderately.workers.supervisor import WorkerSupervisor

__all__ = ["JobWorkers", "app_from_environment", "serve_api_workers"]

# The parent's --log-level, for the API processes' own loggers (uvicorn configures its own).
LOG_LEVEL_VARIABLE = "MODERATELY_SERVE_LOG_LEVEL"
LOG_FORMAT = "%(asctime)s %(name)s %(message)s"
# uvicorn restarts an API process that does not answer its supervisor's ping in this long. A new
# process answers only once it has imported the app, which takes seconds on a busy machine (16 s
# seen on 2 cores at load 15): uvicorn's 5 s default killed every process before it started.
HEALTHCHECK_SECONDS = 60


def app_from_environment() -> FastAPI:
    """uvicorn's app factory in each API process."""
    from moderately.app import create_app

    level = os.environ.get(LOG_LEVEL_VARIABLE, "info").upper()
    logging.basicConfig(level=level, format=LOG_FORMAT)
    return create_app(Settings())


class JobWorkers:
    """The server's job worker processes, supervised from a thread with its own event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="moderately-job-workers")

    def start(self) -> None:
        self._thread.start()
        self._started.wait()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        supervisor = WorkerSupervisor(self.settings, self.settings.workers)
        try:
            await supervisor.start()
        finally:
            self._started.set()
        try:
            await self._stop.wait()
        finally:
            await supervisor.stop()


def serve_api_workers(settings: Settings, *, log_level: str) -> None:
    """Blocking: serve until SIGINT or SIGTERM, then stop the API processes and job workers."""
    import uvicorn

    api_settings = settings.model_copy(update={"workers": 0, "migrate_on_startup": False})
    os.environ.update(api_settings.environment())
    os.environ[LOG_LEVEL_VARIABLE] = log_level
    workers = JobWorkers(settings)
    workers.start()
    try:
        uvicorn.run(
            f"{__name__}:app_from_environment",
            factory=True,
            workers=settings.api_workers,
            host=settings.host,
            port=settings.port,
            log_level=log_level,
            timeout_worker_healthcheck=HEALTHCHECK_SECONDS,
        )
    finally:
        workers.stop()
