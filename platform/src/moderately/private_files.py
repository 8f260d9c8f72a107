"""Files and directories only the server's user can read: 0600 and 0700 from their first byte.

The data dir holds the database, the stored objects and secrets. Each is created with its final
mode (the mode argument of `open`/`mkdir`, narrowed further by the process umask, never widened),
so there is no moment when another user of the machine could open it, as there would be with a
`chmod` after the fact. Existing files and directories are left as they are.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "create_private_file",
    "ensure_private_file",
    "make_private_dir",
    "write_private_bytes",
]

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dir(path: str | os.PathLike[str]) -> None:
    """Create `path` and any missing parent, each 0700; existing ones are left alone."""
    directory = Path(path)
    missing: list[Path] = []
    while not directory.is_dir():
        missing.append(directory)
        if directory.parent == directory:
            break
        directory = directory.parent
    for level in reversed(missing):
        try:
            level.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not level.is_dir():
                raise
            # made by a concurrent process meanwhile: it used the same mode


def create_private_file(path: str | os.PathLike[str]) -> IO[bytes]:
    """A new file (it must not exist yet), 0600, open for writing bytes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    return os.fdopen(fd, "wb")


def write_private_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write a new 0600 file at `path` (it must not exist yet)."""
    with create_private_file(path) as f:
        f.write(data)


def ensure_private_file(path: str | os.PathLike[str]) -> None:
    """Create an empty 0600 file at `path` unless one exists (its contents are kept)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    os.close(fd)
