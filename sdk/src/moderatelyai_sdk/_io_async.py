"""I/O seam of the async client, hand-written twin of ``_io_sync.py``.

Everything that really differs between the two clients is here and nowhere else: waiting, running
blocking work (disk reads and writes, hashing a large buffer) off the event loop, and reading from
a caller's object that may be sync or async. Tests replace ``sleep`` to make retries instant.
"""

import inspect
from typing import Any, Callable, TypeVar

import anyio  # httpx's own async backend layer, so asyncio and trio both work
import anyio.to_thread

__all__ = ["read", "run_blocking", "sleep"]

T = TypeVar("T")


async def sleep(seconds: float) -> None:
    await anyio.sleep(seconds)


async def run_blocking(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread, so the event loop keeps running meanwhile."""
    return await anyio.to_thread.run_sync(function, *args)


async def read(reader: Any, size: int) -> Any:
    """``reader.read(size)`` of a caller's object: awaited when ``read`` is async (aiofiles,
    anyio files, custom readers), run in a worker thread when it blocks."""
    method = reader.read
    if inspect.iscoroutinefunction(method):
        return await method(size)
    result = await anyio.to_thread.run_sync(method, size)
    if inspect.isawaitable(result):  # an async read not declared with ``async def``
        result = await result
    return result
