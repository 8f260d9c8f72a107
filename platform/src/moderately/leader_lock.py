"""A lock that one process of all those sharing a database holds at a time: the one that runs the
periodic sweeps (app.py), whatever the number of API processes (`serve --api-workers N`) and of
servers on other machines.

* PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a connection of its own,
  kept open while held. A process that dies, or loses its connection, loses the lock with it: the
  database ends the session, and another process takes the lock at its next try.
* SQLite: every process is on the machine that holds the database file, so an exclusive `flock`
  on a file next to it does the same; the kernel releases it when its process dies.

`hold()` is called before each round of work: it takes the lock when it is free and checks that
this process still holds it otherwise (a lost connection means a lost lock), so a takeover needs
no timeout of its own. The work guarded must still be safe to repeat (a process can lose the lock
mid-round without knowing it until its next `hold()`); the lock only keeps it from running in
every process at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import NullPool, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from moderately.config import Settings
from moderately.db.session import database_url

__all__ = ["LeaderLock", "advisory_key", "leader_lock"]

log = logging.getLogger("moderately")


class LeaderLock(Protocol):
    name: str

    async def hold(self) -> bool:
        """True when this process holds the lock now (taking it if it is free)."""
        ...

    async def release(self) -> None: ...


def advisory_key(name: str) -> int:
    """The PostgreSQL advisory lock key of lock `name` (a signed 64-bit integer)."""
    digest = hashlib.blake2b(f"moderately:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def leader_lock(settings: Settings, name: str) -> LeaderLock:
    url = database_url(settings)
    if url.get_backend_name() == "postgresql":
        return AdvisoryLeaderLock(create_async_engine(url, poolclass=NullPool), name)
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        lock_path = settings.data_dir / f"{name}.lock"
    else:
        lock_path = Path(f"{database}.{name}.lock")
    return FileLeaderLock(lock_path, name)


class AdvisoryLeaderLock:
    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.key = advisory_key(name)
        self._connection: AsyncConnection | None = None

    async def hold(self) -> bool:
        if self._connection is not None:
            try:  # still ours while the session that took it lives
                await self._connection.execute(text("SELECT 1"))
                return True
            except Exception:
                log.warning("lost the database session holding the %s lock", self.name)
                await self._close()
        connection = await self.engine.connect()
        try:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            taken = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            )
        except BaseException:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            return False
        self._connection = connection
        log.info("process %d holds the %s lock", os.getpid(), self.name)
        return True

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}
                )
            await self._close()
        await self.engine.dispose()

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()


class FileLeaderLock:
    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self._fd: int | None = None

    async def hold(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        log.info("process %d holds the %s lock", os.getpid(), self.name)
        return True

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor of the open file drops the flock
