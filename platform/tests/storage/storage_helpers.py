"""Small helpers shared by the storage tests (a module, not conftest, so tests can import it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from moderately.storage import LocalStore

#: S3's smallest part size, so a few MiB already take the S3 store's multipart path.
PART_SIZE = 5 * 1024 * 1024


async def chunks_of(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """`data` as an async stream, the shape request bodies and producers have."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def tmp_files(store: LocalStore) -> list[Path]:
    """What the local store is writing right now (or leaked)."""
    return list((store.root / "tmp").iterdir())
