"""Every job in a process of its own, under budgets the worker enforces from outside.

`IsolatedJobs.kinds()` gives the queue's `JobKind`s for a worker: each `run` starts a child
process (multiprocessing's forkserver, preloaded with the job code, so a start costs a fork, not
an interpreter) that runs the handler (jobs/child.py) at a lower CPU priority, and then watches
it from the worker's event loop, which stays free to renew the job's lease:

* memory: the child's resident size is read every `poll_interval`; over `job_memory_bytes` the
  child is killed and the job fails for good with a `resource_limit` naming the budget;
* wall time: past the handler's budget (plus a grace that lets the engine's own timeout speak
  first) the child is killed, the same way (error type `timeout`, as the engine's own);
* stop: every `stop_poll_interval` the handler's `stop_requested` reads the record (cancelled,
  paused, superseded); a child that has not ended `stop_grace` later is killed, even when a block
  is busy on the CPU, so a cancel or pause lands within about `stop_poll_interval + stop_grace`;
* the child's own verdict comes back on a pipe: done, a `MemoryError` (a budget), or an error
  (the job is retried by the queue). A child that dies without one (a segfault, the kernel's OOM
  killer) is retried too, and a job that keeps killing its processes (a poison job) fails for
  good once its attempts are spent, through the queue's `gave_up`: the worker itself lives on.

Whatever the worker ended, the handler's `stopped` settles the record, so nothing is left
`running`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any

import anyio.to_thread

from moderately.ai.limits import SharedSlots
from moderately.config import Settings
from moderately.jobs import child
from moderately.jobs.base import JobHandler, Stop
from moderately.workers.base import Job, JobError, JobKind

log = logging.getLogger("moderately.workers")

__all__ = ["IsolatedJobs", "JobFailed", "describe_bytes", "start_forkserver"]

# Extra seconds past the wall-time budget before the kill: the engine's own timeout answers
# first, with the progress it made, when it can.
WALL_GRACE_SECONDS = 2.0
_PAGE = os.sysconf("SC_PAGE_SIZE")
_context: ForkServerContext | None = None


class JobFailed(JobError):
    """One attempt failed in a way worth retrying (the queue decides)."""


def describe_bytes(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def process_context(settings: Settings) -> ForkServerContext:
    """The forkserver, preloaded with the job code, the AI layer (`job_preload_ai`) and the
    `job_modules` (started on first use, once per worker process)."""
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        assert isinstance(context, ForkServerContext)
        context.set_forkserver_preload(child.preloaded_modules(settings))
        _context = context
    return _context


def start_forkserver(settings: Settings) -> None:
    """Blocking: start the forkserver now (it loads the job code, a second or so) rather than
    on the first job, which would then wait for it."""
    process_context(settings)
    from multiprocessing import forkserver

    forkserver.ensure_running()


def _resident_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


class IsolatedJobs:
    def __init__(
        self,
        settings: Settings,
        handlers: Mapping[str, JobHandler],
        *,
        poll_interval: float = 0.05,
        stop_poll_interval: float = 0.1,
    ) -> None:
        self.settings = settings
        self.handlers = dict(handlers)
        self.poll_interval = poll_interval
        self.stop_poll_interval = stop_poll_interval
        # One cap on LLM calls in flight, shared by all the jobs' processes of this worker.
        self.llm_slots = SharedSlots.create(settings.llm_max_concurrency)

    def kinds(self) -> dict[str, JobKind]:
        return {
            name: JobKind(run=self._runner(name), gave_up=handler.gave_up)
            for name, handler in self.handlers.items()
        }

    def _runner(self, name: str) -> Any:
        async def run(job: Job) -> None:
            await self.run(name, job)

        return run

    async def run(self, name: str, job: Job) -> None:
        handler = self.handlers[name]
        context = process_context(self.settings)
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=child.main,
            args=(self.settings, name, job, sender, self.llm_slots),
            name=f"moderately-job-{job.job_id}",
        )
        try:
            # Talking to the forkserver blocks (and starts it the first time): not on the loop.
            await anyio.to_thread.run_sync(process.start)
        finally:
            sender.close()
        try:
            stop = await self._watch(handler, job, process)
        except BaseException:  # the worker is stopping: the queue hands the job back
            _kill(process)
            raise
        finally:
            await anyio.to_thread.run_sync(process.join, 5.0)
            verdict = _verdict(receiver)
            receiver.close()
            exit_reason = _exit_reason(process)
            with contextlib.suppress(ValueError):
                process.close()
        if stop is None and verdict[0] == "resource_limit":
            stop = Stop("resource_limit", verdict[1])
        if stop is not None:
            log.info("job %s (%s) ended by the worker: %s", job.job_id, name, stop.message)
            if handler.stopped is not None:
                await handler.stopped(job, stop)
            return
        if verdict[0] == "ok":
            return
        if verdict[0] == "error":
            raise JobFailed(verdict[1])
        raise JobFailed(f"the job's process died ({exit_reason})")

    async def _watch(self, handler: JobHandler, job: Job, process: BaseProcess) -> Stop | None:
        """Wait for the process to end; end it on a spent budget or an unheeded stop."""
        loop = asyncio.get_running_loop()
        ended = loop.create_future()
        sentinel = process.sentinel

        def on_exit() -> None:
            if not ended.done():
                ended.set_result(None)

        loop.add_reader(sentinel, on_exit)
        try:
            started = time.monotonic()
            deadline = started + handler.timeout_seconds + WALL_GRACE_SECONDS
            memory = self.settings.job_memory_bytes
            grace = self.settings.job_stop_grace_seconds
            next_stop_check = started + self.stop_poll_interval
            stop_seen: float | None = None
            while not ended.done():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_interval):
                        await asyncio.shield(ended)
                if ended.done():
                    break
                now = time.monotonic()
                resident = _resident_bytes(process.pid or 0)
                if resident > memory:
                    _kill(process)
                    return Stop(
                        "resource_limit",
                        f"the job used {describe_bytes(resident)} of memory, over its budget of "
                        f"{describe_bytes(memory)} (MODERATELY_JOB_MEMORY_BYTES)",
                    )
                if now >= deadline:
                    _kill(process)
                    return Stop(
                        "resource_limit",
                        f"the execution ran past its wall-time budget of "
                        f"{handler.timeout_seconds:g} s ({handler.timeout_setting})",
                        error_type="timeout",
                    )
                if stop_seen is None and handler.stop_requested and now >= next_stop_check:
                    next_stop_check = now + self.stop_poll_interval
                    with contextlib.suppress(Exception):  # a lost database: ask again later
                        if await handler.stop_requested(job):
                            stop_seen = now
                if stop_seen is not None and now - stop_seen >= grace:
                    _kill(process)
                    return Stop("requested", "stopped on request (cancel, pause or superseded)")
            return None
        finally:
            loop.remove_reader(sentinel)


def _kill(process: BaseProcess) -> None:
    with contextlib.suppress(Exception):
        if process.is_alive():
            process.kill()


def _verdict(receiver: Connection) -> tuple[str, str]:
    with contextlib.suppress(Exception):
        if receiver.poll():
            kind, message = receiver.recv()
            return str(kind), str(message)
    return ("none", "")


def _exit_reason(process: BaseProcess) -> str:
    code = process.exitcode
    if code is None:
        return "it did not exit"
    if code < 0:
        with contextlib.suppress(ValueError):
            import signal

            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
