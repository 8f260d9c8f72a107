"""I/O seam of the sync client, hand-written twin of ``_io_async.py``."""

import time

__all__ = ["sleep"]


def sleep(seconds: float) -> None:
    time.sleep(seconds)
