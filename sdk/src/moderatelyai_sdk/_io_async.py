"""I/O seam of the async client, hand-written twin of ``_io_sync.py``.

Everything that really differs between the two clients is here and nowhere else. Tests replace
``sleep`` to make retries instant.
"""

import anyio  # httpx's own async backend layer, so asyncio and trio both work

__all__ = ["sleep"]


async def sleep(seconds: float) -> None:
    await anyio.sleep(seconds)
