"""At most `llm_max_concurrency` provider calls in flight per worker process.

A worker runs each job in a process of its own (jobs/isolation.py), so the cap must hold across
processes. The worker makes one `SharedSlots` (N lock files in a private directory) and hands
its description to every job process (`install_shared_slots`); a call holds one file's `flock`
while it is in flight. The kernel drops a lock when its holder dies, so a job process killed
mid-call (a cancel, a memory budget) never leaks a slot, which a POSIX semaphore would.

Without shared slots (tests, the API process) a per-process asyncio semaphore applies.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import os
import random
import shutil
import tempfile
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

from moderately.private_files import FILE_MODE

__all__ = ["CallSlots", "SharedSlots", "install_shared_slots", "installed_shared_slots"]

# How often a waiting call looks for a free slot (with jitter, so waiters do not move in step).
_POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class SharedSlots:
    """`count` lock files in `directory`: picklable, so it travels to a job's process."""

    directory: str
    count: int

    @classmethod
    def create(cls, count: int) -> SharedSlots:
        """Made by a worker once; the directory goes when the worker exits."""
        directory = tempfile.mkdtemp(prefix="moderately-llm-slots-")  # 0700
        for index in range(count):
            path = os.path.join(directory, f"slot-{index}")
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        return cls(directory, count)

    def try_acquire(self) -> int | None:
        """A file descriptor holding a free slot's lock, or None when all are taken."""
        for index in random.sample(range(self.count), self.count):
            try:
                fd = os.open(os.path.join(self.directory, f"slot-{index}"), os.O_RDWR)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            return fd
        return None

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        # Non-blocking tries on the loop (a cancelled wait leaves nothing behind).
        while (fd := self.try_acquire()) is None:
            await asyncio.sleep(_POLL_SECONDS * (0.5 + random.random()))
        try:
            yield
        finally:
            os.close(fd)  # closing the descriptor drops the lock


_shared: SharedSlots | None = None


def install_shared_slots(slots: SharedSlots | None) -> None:
    """Called by a job's process with its worker's slots."""
    global _shared
    _shared = slots


def installed_shared_slots() -> SharedSlots | None:
    return _shared


class CallSlots:
    """The slots a `ChatModels` takes for each call: the worker's shared slots when this is a
    job's process, else a semaphore of `limit` of its own (one per event loop: tests run several
    loops in a process)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._local: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        if _shared is not None:
            async with _shared.hold():
                yield
            return
        loop = asyncio.get_running_loop()
        semaphore = self._local.get(loop)
        if semaphore is None:
            semaphore = self._local[loop] = asyncio.Semaphore(self.limit)
        async with semaphore:
            yield
