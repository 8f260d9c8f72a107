"""One SQLite write transaction at a time per process, handed over in order on the event loop.

SQLite lets one writer in at a time. The others wait inside SQLite's busy handler, which sleeps
and retries with growing pauses (up to 100 ms), so under a burst of writes a waiter learns late
that the lock is free, and an unlucky one misses its turn again and again: with 32 clients
creating and reading, a create waited 1.2 s at the median and 8 s at p99 (benchmarks/README.md,
issue 12). Here a write transaction (`BEGIN IMMEDIATE`, db/session.py) first takes this
process's turn, first come first served, passed on the moment the previous one ends; SQLite's
own lock still orders this process against the others (job workers, a second server).

A turn is held from before `BEGIN IMMEDIATE` until its connection goes back to the pool (every
session gives its connection back when its transaction ends) or is invalidated. Waiting for a
turn is bounded by the busy timeout and then fails as SQLite would ("database is locked", a
503), so a code path that opened a second write transaction while holding one still fails the
same way instead of waiting forever.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

# Where a connection keeps the turn it holds (its pool record's `info`, which outlives one
# checkout; it is emptied at checkin).
_TURN = "moderately.sqlite_write_turn"


class SqliteWriters:
    """The write turns of one engine in this process, one queue per event loop."""

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def _turn(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = asyncio.Lock()
        return turn

    def take(self, connection: Connection) -> None:
        """Before `BEGIN IMMEDIATE` on `connection`: wait for this process's write turn (run in
        SQLAlchemy's greenlet, on the connection's event loop). A connection that holds one
        already keeps it."""
        if _TURN in connection.info:
            return

        async def wait(_driver_connection: Any) -> None:
            turn = self._turn()
            try:
                # (Not wait_for: a cancellation racing the acquisition could lose the turn.)
                async with asyncio.timeout(self.timeout_seconds):
                    await turn.acquire()
            except TimeoutError:
                raise OperationalError(
                    "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
                ) from None
            # Recorded before anything else can await, so whatever fails next gives it back.
            connection.info[_TURN] = turn

        adapted: Any = connection.connection.dbapi_connection
        adapted.run_async(wait)

    def install(self, engine_sync: Any) -> None:
        """Give a turn back whenever a connection returns to the pool or is thrown away."""

        @event.listens_for(engine_sync, "checkin")
        def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
            give_back(record.info)

        @event.listens_for(engine_sync, "invalidate")
        def _on_invalidate(_dbapi_connection: Any, record: ConnectionPoolEntry, _exc: Any) -> None:
            give_back(record.info)


def give_back(info: dict[Any, Any]) -> None:
    """Release the write turn held under `info`, if any (at most once)."""
    turn = info.pop(_TURN, None)
    if turn is not None and turn.locked():
        turn.release()
