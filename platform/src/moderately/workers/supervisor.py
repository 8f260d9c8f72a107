"""The worker processes `moderately serve` starts and keeps running (setting `workers`).

Each is `moderately worker --supervised` with the server's settings in its environment. The
supervisor wakes them when this process enqueues a job (a byte on each worker's standard input,
so a queued job starts at once rather than at the next poll), restarts one that dies (after a
back-off that grows while it keeps dying), and stops them with the server: their standard input
closes (also when the server itself dies, so no worker outlives it), then SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time

from moderately.config import Settings

log = logging.getLogger("moderately.workers")

__all__ = ["WorkerSupervisor"]

# A worker that lived this long before dying is restarted at once; a quicker death doubles the
# wait (up to MAX_BACKOFF) so a worker that cannot start does not spin.
HEALTHY_SECONDS = 30.0
MAX_BACKOFF = 30.0
STOP_TIMEOUT = 10.0


class WorkerSupervisor:
    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.count = count
        self.processes: list[asyncio.subprocess.Process | None] = [None] * count
        self.restarts = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._tasks = [asyncio.create_task(self._keep(slot)) for slot in range(self.count)]

    async def _spawn(self) -> asyncio.subprocess.Process:
        env = {**os.environ, **self.settings.environment()}
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "moderately.cli",
            "worker",
            "--supervised",
            # As verbose as the server when it logs at debug (`serve --log-level debug`).
            "--log-level",
            "debug" if logging.getLogger().isEnabledFor(logging.DEBUG) else "info",
            stdin=asyncio.subprocess.PIPE,
            env=env,
        )

    async def _keep(self, slot: int) -> None:
        backoff = 0.5
        while not self._stopping:
            started = time.monotonic()
            try:
                process = await self._spawn()
            except OSError:
                log.warning("could not start a worker process", exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            self.processes[slot] = process
            code = await process.wait()
            if self._stopping:
                return
            self.restarts += 1
            log.warning("worker process %d exited (%s); restarting it", process.pid, code)
            if time.monotonic() - started >= HEALTHY_SECONDS:
                backoff = 0.5
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p is not None and p.returncode is None]

    def wake(self) -> None:
        """Thread-safe: have every worker look for jobs now."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for process in self.processes:
            if process is None or process.returncode is not None or process.stdin is None:
                continue
            with contextlib.suppress(Exception):
                process.stdin.write(b".")

    async def stop(self) -> None:
        self._stopping = True
        live = [p for p in self.processes if p is not None and p.returncode is None]
        for process in live:
            with contextlib.suppress(Exception):
                if process.stdin is not None:
                    process.stdin.close()
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in live:
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
