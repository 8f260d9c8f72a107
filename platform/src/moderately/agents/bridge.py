"""Calls from the agent loop's thread into the run's event loop, all of them interruptible.

smolagents is synchronous, so the loop runs in a thread of its own; every model call, tool call
and memory write it makes is a coroutine on the run's event loop (`Bridge.call`). Stopping the
run (`Bridge.stop`: cancel, pause, time limit) cancels the coroutines in flight and makes every
later call raise `Stopped`, which is a `BaseException`: smolagents catches `Exception` around
model and tool calls (turning them into observations), so `Stopped` passes through it and ends
`agent.run` at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Stopped(BaseException):
    """The run is stopping; raised in the loop's thread by every bridged call."""


class Bridge:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._stopped = threading.Event()
        self._running: set[asyncio.Task[Any]] = set()  # touched on the event loop only

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def call(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `function(*args)` on the event loop and wait for it (from the loop's thread).
        Its exceptions are raised here; a stop raises `Stopped`."""
        if self._stopped.is_set():
            raise Stopped
        future = asyncio.run_coroutine_threadsafe(self._guarded(function, *args), self.loop)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise Stopped from None
        except asyncio.CancelledError:
            raise Stopped from None

    async def _guarded(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            if self._stopped.is_set():  # stop() ran between call() and here
                raise asyncio.CancelledError
            return await function(*args)
        finally:
            self._running.discard(task)

    def stop(self) -> None:
        """Refuse further calls and cancel those in flight (call it on the event loop)."""
        self._stopped.set()
        for task in list(self._running):
            task.cancel()
