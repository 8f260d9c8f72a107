"""I/O seam of the sync client, hand-written twin of ``_io_async.py``."""

import inspect
import time
from typing import Any, Callable, TypeVar

__all__ = ["read", "run_blocking", "sleep"]

T = TypeVar("T")


def sleep(seconds: float) -> None:
    time.sleep(seconds)


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
