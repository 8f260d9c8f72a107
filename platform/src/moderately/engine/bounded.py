"""Work on `count` items with at most `limit` running at once (the AI blocks' `max_concurrency`).

Items are taken from a shared counter in index order by `min(limit, count)` workers, so exactly
that many run at once whatever `count` is. The first failure cancels the running items and is
raised; no item starts once the run is stopping (`ctx.cancelled()`): that ends in
`asyncio.CancelledError`, as a cancelled block does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .context import BlockContext


async def for_each_bounded(
    ctx: BlockContext, count: int, limit: int, work: Callable[[int], Awaitable[None]]
) -> None:
    """Await `work(index)` for every index in `range(count)`, `limit` at a time."""
    cursor = 0

    async def worker() -> None:
        nonlocal cursor
        while cursor < count:
            if ctx.cancelled():
                raise asyncio.CancelledError
            index = cursor
            cursor += 1
            await work(index)

    workers = [
        asyncio.create_task(worker(), name=f"{ctx.block_id}:worker{number}")
        for number in range(max(1, min(limit, count)))
    ]
    try:
        pending = set(workers)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for task in workers:  # the first failure in start order among those done
                if task in done and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            if any(task.cancelled() for task in done):
                raise asyncio.CancelledError
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
