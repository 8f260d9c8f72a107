"""I/O seam of the sync client, hand-written twin of ``_io_async.py``."""

import contextlib
import inspect
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, ContextManager, Optional, TypeVar

__all__ = ["Worker", "paginated", "read", "run_blocking", "shield", "sleep"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def paginated(method: F) -> F:
    """A sync ``list()`` returns its first page directly (twin of ``_io_async.paginated``)."""
    return method


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def shield() -> ContextManager[None]:
    """Nothing to shield from: a sync call is not cancelled halfway (twin of the async one)."""
    return contextlib.nullcontext()


def run_blocking(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)``, here and now: the sync client has no event loop to keep free."""
    return function(*args)


def read(reader: Any, size: int) -> Any:
    """``reader.read(size)`` of a caller's object; an async reader needs the async client."""
    result = reader.read(size)
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if callable(close):
            close()  # no "coroutine was never awaited" warning
        raise TypeError(
            f"{type(reader).__name__}.read() is async: upload it with AsyncModeratelyAI, "
            "or pass a path, bytes or a blocking file object"
        )
    return result


class Worker:
    """Blocking jobs run in order on one background thread, at most one ahead of the caller
    (twin of ``_io_async.Worker``): a download receives the next buffer while the previous one
    is hashed and written."""

    def __init__(self) -> None:
        self._pool: Optional[ThreadPoolExecutor] = None
        self._pending: Optional[Future[Any]] = None

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        self.wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="moderatelyai-transfer")
        self._pending = self._pool.submit(function, *args)

    def wait(self) -> None:
        """Until the queued job is done; re-raises its exception."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=False)
                self._pool = None
