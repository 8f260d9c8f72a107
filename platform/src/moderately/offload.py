"""CPU-heavy steps of request handling, off the event loop: one place, one bound.

Parsing a large JSON body, hashing one, serialising a large document: each can take tenths of a
second on a body of tens of MiB, during which an event loop that ran it would answer nobody.
`run_cpu` runs such a step in a worker thread, at most `CPU_THREADS` at once per event loop (the
limiter is shared by every caller, so a burst of large requests queues here instead of taking
every thread anyio has). `run_cpu_if_large` keeps small inputs inline, where a thread hop would
cost more than the work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Final, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar

T = TypeVar("T")

# Inputs up to this size are handled on the event loop (well under a millisecond of work).
OFFLOAD_BYTES: Final = 1024 * 1024
# Threads doing such work at once (per event loop). Hashing releases the GIL; JSON does not, but
# in a thread it is interleaved with the loop instead of stopping it.
CPU_THREADS: Final = 4

_limiter: RunVar[CapacityLimiter] = RunVar("moderately_cpu_limiter")


def cpu_limiter() -> CapacityLimiter:
    """The running event loop's limiter (made on first use: a limiter belongs to one loop)."""
    try:
        return _limiter.get()
    except LookupError:
        limiter = CapacityLimiter(CPU_THREADS)
        _limiter.set(limiter)
        return limiter


async def run_cpu(func: Callable[..., T], *args: object) -> T:
    """`func(*args)` in a worker thread, bounded by `cpu_limiter()`."""
    return await anyio.to_thread.run_sync(functools.partial(func, *args), limiter=cpu_limiter())


async def run_cpu_if_large(size: int, func: Callable[..., T], *args: object) -> T:
    """`func(*args)` inline when `size` (bytes of input) is at most `OFFLOAD_BYTES`, else
    through `run_cpu`."""
    if size <= OFFLOAD_BYTES:
        return func(*args)
    return await run_cpu(func, *args)
