"""Keeping the event loop responsive while blocks do long synchronous work.

The engine checks cancel, pause and the time limit on the event loop, between the awaits of the
blocks it runs. A block whose `run` loops over a million rows without awaiting holds the loop
for the whole loop. Blocks with their own loops (`map`, `join`, `zip`, `text_splitter`) await
`asyncio.sleep(0)` every few thousand items; a block built from synchronous steps it cannot cut
(`transform` operations) runs a step on a large value through `run_step`, in a worker thread, so
the loop keeps turning: a cancelled block then stops waiting at once and its thread's result is
dropped when the step ends (steps never mutate their input, so nothing is left half-changed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final, TypeVar

T = TypeVar("T")

LARGE_ITEMS: Final = 20_000  # a list or object with more elements than this is large
LARGE_TEXT: Final = 1 << 20  # so is a string longer than this (characters)


def is_large(value: Any) -> bool:
    """True for a value a synchronous step may take long over (checked at the top level only)."""
    if isinstance(value, list | dict):
        return len(value) > LARGE_ITEMS
    if isinstance(value, str):
        return len(value) > LARGE_TEXT
    return False


async def run_step(step: Callable[[], T], value: Any) -> T:
    """`step()`, in a worker thread when `value` (what it works on) is large, else inline."""
    if is_large(value):
        return await asyncio.to_thread(step)
    return step()
