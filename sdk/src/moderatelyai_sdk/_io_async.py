"""I/O seam of the async client, hand-written twin of ``_io_sync.py``.

Everything that really differs between the two clients is here and nowhere else: waiting, running
blocking work (disk reads and writes, hashing a large buffer) off the event loop, and reading from
a caller's object that may be sync or async. Tests replace ``sleep`` to make retries instant.
"""

import functools
import inspect
from concurrent.futures import Future, ThreadPoolExecutor
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Generic,
    Optional,
    TypeVar,
)

import anyio  # httpx's own async backend layer, so asyncio and trio both work
import anyio.to_thread
from typing_extensions import ParamSpec

from ._models import ModelT

if TYPE_CHECKING:
    from ._async._pagination import AsyncPage

__all__ = ["AsyncPaginator", "Worker", "paginated", "read", "run_blocking", "shield", "sleep"]

T = TypeVar("T")
P = ParamSpec("P")


async def sleep(seconds: float) -> None:
    await anyio.sleep(seconds)


def shield() -> anyio.CancelScope:
    """``with shield(): await cleanup()``: cleanup that runs to its end even while the task is
    being cancelled (closing files, removing a partial download)."""
    return anyio.CancelScope(shield=True)


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


class Worker:
    """Blocking jobs run in order on one background thread, at most one ahead of the caller.

    A download hands each filled buffer over (hash it, write it) and goes back to receiving the
    next one, so the network, the hashing and the disk work at the same time; waiting for the
    previous job before queueing the next keeps memory at two buffers.
    """

    def __init__(self) -> None:
        self._pool: Optional[ThreadPoolExecutor] = None
        self._pending: Optional[Future[Any]] = None

    async def submit(self, function: Callable[..., Any], *args: Any) -> None:
        await self.wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="moderatelyai-transfer")
        self._pending = self._pool.submit(function, *args)

    async def wait(self) -> None:
        """Until the queued job is done; re-raises its exception."""
        pending, self._pending = self._pending, None
        if pending is not None:
            if not pending.done():  # else no thread hop: the result is there
                await anyio.to_thread.run_sync(pending.exception)  # waits, never raises
            pending.result()

    async def aclose(self) -> None:
        try:
            await self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=False)
                self._pool = None


class AsyncPaginator(Awaitable["AsyncPage[ModelT]"], Generic[ModelT]):
    """What an async ``list()`` returns: ``await`` it for the first page, or iterate it
    (``async for item in client.agents.list()``, ``.auto_paging_iter()``) for every item of
    every page. The first request is made when it is awaited or iterated."""

    def __init__(self, fetch: Callable[[], Coroutine[Any, Any, "AsyncPage[ModelT]"]]) -> None:
        self._fetch = fetch

    def __await__(self) -> Generator[Any, None, "AsyncPage[ModelT]"]:
        return self._fetch().__await__()

    async def auto_paging_iter(self) -> AsyncIterator[ModelT]:
        """Every item of every page, fetching pages as it goes."""
        page = await self._fetch()
        async for item in page.auto_paging_iter():
            yield item

    def __aiter__(self) -> AsyncIterator[ModelT]:
        return self.auto_paging_iter()


def paginated(
    method: Callable[P, Coroutine[Any, Any, "AsyncPage[ModelT]"]],
) -> Callable[P, AsyncPaginator[ModelT]]:
    """Make an ``async def list(...)`` return an ``AsyncPaginator`` (awaitable, iterable)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> AsyncPaginator[ModelT]:
        return AsyncPaginator(lambda: method(*args, **kwargs))

    return wrapper
