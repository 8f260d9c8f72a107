"""Claim loops on the database queue: the asyncio side of a worker process (`moderately worker`,
and the worker processes `moderately serve` supervises).

`start()` first recovers the jobs of workers that died (a restart leaves nothing running that
nobody runs), then starts the claim loops and a recovery loop (which also purges finished jobs
after a week). Each kind has its own loops (`slots`), so long pipelines never hold the slots of
dataset processing; `concurrency` instead runs that many loops over every kind. A loop claims a
job, runs its kind's handler while renewing the lease, and completes or fails it. The handlers a
worker registers run each job in a process of its own (jobs/isolation.py): these loops only wait.

Loops poll at `poll_interval` and wake at once on `wake()` (the queue's after-commit notice in
this process, or a byte from the supervising server): one idle loop of each group of kinds,
which wakes the next when it claimed a job (a wake that finds none idle is kept for the next
to go idle). A process claims one job at a time. `stop()` cancels the loops; a job cut short
is handed back to the queue, so the next start resumes it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Mapping
from datetime import timedelta

from moderately.ids import new_id
from moderately.workers.base import Job, JobKind, Recovered, public_reason
from moderately.workers.db_queue import DbQueue

log = logging.getLogger("moderately.workers")

# Finished jobs stay this long (their last_error helps after a failure), then go.
KEEP_FINISHED = timedelta(days=7)


class ClaimLoops:
    def __init__(
        self,
        queue: DbQueue,
        kinds: Mapping[str, JobKind],
        *,
        concurrency: int = 1,
        slots: Mapping[str, int] | None = None,
        poll_interval: float = 1.0,
        recovery_interval: float = 15.0,
    ) -> None:
        self.queue = queue
        self.kinds = dict(kinds)
        # Which kinds each loop claims: one group per slot of a kind, or `concurrency` loops
        # over all kinds.
        self.groups: list[list[str]] = (
            [[kind] for kind, count in slots.items() if kind in self.kinds for _ in range(count)]
            if slots is not None
            else [list(self.kinds)] * concurrency
        )
        self.poll_interval = poll_interval
        self.recovery_interval = recovery_interval
        self._name = f"{socket.gethostname()}:{os.getpid()}:{new_id(6)}"
        self._tasks: list[asyncio.Task[None]] = []
        # The idle loops of each group of kinds, each waiting on its own event: a wake sets one
        # per group, and a loop that claimed a job wakes the next (more may be queued), so a
        # burst of enqueues does not send every loop to the database at once.
        self._idle: dict[tuple[str, ...], list[asyncio.Event]] = {}
        self._missed: set[tuple[str, ...]] = set()  # groups woken while none of theirs was idle
        # One claim at a time in this process: one connection, and on SQLite no loop of this
        # worker waits on another's write lock.
        self._claiming = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.queue.on_enqueue = self.wake
        await self.recover()
        self._tasks = [
            asyncio.create_task(self._claim_loop(f"{self._name}-{n}", kinds))
            for n, kinds in enumerate(self.groups)
        ]
        self._tasks.append(asyncio.create_task(self._recovery_loop()))

    async def stop(self) -> None:
        self.queue.on_enqueue = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def wake(self) -> None:
        """Thread-safe: claim now rather than at the next poll (one idle loop of each group)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake_groups)

    def _wake_groups(self) -> None:
        for group in list(self._idle):
            self._wake_one(group)

    def _wake_one(self, group: tuple[str, ...]) -> None:
        sleepers = self._idle.get(group)
        if sleepers:
            sleepers.pop(0).set()
        else:
            self._missed.add(group)

    async def recover(self) -> Recovered:
        recovered = await self.queue.recover()
        for job, reason in recovered.gave_up:
            await self._give_up(job, reason)
        return recovered

    async def run_next(self, worker_id: str, kinds: list[str] | None = None) -> bool:
        """Claim and run one job (of `kinds`, default all); False when there was none."""
        kinds = list(self.kinds) if kinds is None else kinds
        async with self._claiming:
            job = await self.queue.claim(worker_id, kinds)
        if job is None:
            return False
        self._wake_one(tuple(kinds))
        await self._execute(job)
        return True

    async def _claim_loop(self, worker_id: str, kinds: list[str]) -> None:
        group = tuple(kinds)
        sleepers = self._idle.setdefault(group, [])
        wakeup = asyncio.Event()
        while True:
            try:
                if await self.run_next(worker_id, kinds):
                    continue
            except Exception:  # a lost database: the next round tries again
                log.warning("job claim failed", exc_info=True)
            if group in self._missed:  # woken while it was claiming: look again
                self._missed.discard(group)
                continue
            wakeup.clear()
            sleepers.append(wakeup)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_interval):
                        await wakeup.wait()
            finally:
                if wakeup in sleepers:
                    sleepers.remove(wakeup)

    async def _recovery_loop(self) -> None:
        while True:
            await asyncio.sleep(self.recovery_interval)
            try:
                await self.recover()
                await self.queue.purge(older_than=KEEP_FINISHED)
            except Exception:
                log.warning("job recovery failed", exc_info=True)

    async def _execute(self, job: Job) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(job))
        try:
            await self.kinds[job.kind].run(job)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.queue.release(job))
            raise
        except Exception as exc:
            log.warning("job %s (%s) failed", job.job_id, job.kind, exc_info=True)
            reason = public_reason(exc)
            if await self.queue.fail(job, reason):
                await self._give_up(job, f"gave up after {job.attempts} attempts: {reason}")
        else:
            await self.queue.complete(job)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, job: Job) -> None:
        interval = max(self.queue.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                if not await self.queue.heartbeat(job):
                    log.warning("job %s: lease lost to another worker", job.job_id)
                    return
            except Exception:
                log.warning("job %s: heartbeat failed", job.job_id, exc_info=True)

    async def _give_up(self, job: Job, reason: str) -> None:
        kind = self.kinds.get(job.kind)
        if kind is None or kind.gave_up is None:
            return
        try:
            await kind.gave_up(job, reason)
        except Exception:
            log.warning("job %s: the gave_up hook failed", job.job_id, exc_info=True)
