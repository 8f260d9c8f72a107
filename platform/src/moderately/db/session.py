"""Engine and sessions, built from Settings by whoever needs them (never at import)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from moderately.config import Settings
from moderately.db.sqlite_writers import SqliteWriters, give_back
from moderately.private_files import ensure_private_file, make_private_dir
from moderately.services import audit, token_cache

_POSTGRES_SCHEMES = {
    "postgres",
    "postgresql",
    "postgresql+psycopg",
    "postgresql+psycopg2",
    "postgresql+asyncpg",
    "postgresql+psycopg_async",
}


def database_url(settings: Settings, *, sync: bool = False) -> URL:
    """The SQLAlchemy URL with the driver this server uses (aiosqlite / psycopg 3)."""
    if settings.database_url is None:
        path = (settings.data_dir / "moderately.db").resolve()
        return URL.create("sqlite" if sync else "sqlite+aiosqlite", database=str(path))
    url = make_url(settings.database_url)
    if url.drivername in _POSTGRES_SCHEMES:
        # psycopg 3 serves both sync (migrations) and async (requests) under one name.
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite" if sync else "sqlite+aiosqlite")
    raise ValueError(f"unsupported database URL scheme: {url.drivername!r}")


def prepare_sqlite_file(url: URL) -> None:
    """Create a SQLite database file 0600 (its directory 0700) before SQLite opens it.

    SQLite gives the `-wal` and `-shm` files it makes the database file's mode, so all three
    are private from their first byte. Existing files keep their mode; in-memory and URI
    databases are left to SQLite.
    """
    name = url.database or ""
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    make_private_dir(path.parent)
    ensure_private_file(path)


def configure_sqlite(engine_sync: Any, busy_timeout_ms: int) -> None:
    """WAL for concurrent readers, foreign keys for cascades, a busy timeout before 503.

    The driver's own implicit BEGIN is switched off so that write sessions can start with
    BEGIN IMMEDIATE: a deferred transaction that reads first and writes later fails at once
    (SQLITE_BUSY, no waiting) when another writer committed in between. Write transactions of
    this process take turns first (db/sqlite_writers.py).
    """
    writers = SqliteWriters(busy_timeout_ms / 1000)
    writers.install(engine_sync)

    @event.listens_for(engine_sync, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine_sync, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            writers.take(connection)
        try:
            connection.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            give_back(connection.info)
            raise


class Database:
    """One engine and its session factory; `create_app` owns one, the CLI makes its own.

    The pool does not roll a returned connection back (`pool_reset_on_return=None`): every
    transaction here is ended by its SQLAlchemy connection, which rolls back what was left open
    when it closes, so the pool's own ROLLBACK was a second round trip on every request (on
    SQLite a thread hop; benchmarks/README.md, issue 12).
    """

    def __init__(self, settings: Settings, *, pool_size: int = 10) -> None:
        audit.install()  # every session's writes carry their audit log entries
        token_cache.install()  # and move the auth generation when they narrow a token's access
        # Principals of recent tokens; sessions made here drop it when they revoke access.
        self.tokens = token_cache.TokenCache(settings.token_cache_seconds)
        url = database_url(settings)
        self.dialect = url.get_backend_name()
        if self.dialect == "sqlite":
            prepare_sqlite_file(url)
            self.engine: AsyncEngine = create_async_engine(url, pool_reset_on_return=None)
            configure_sqlite(self.engine.sync_engine, settings.sqlite_busy_timeout_ms)
        else:
            self.engine = create_async_engine(
                url, pool_pre_ping=True, pool_size=pool_size, pool_reset_on_return=None
            )
        info = {token_cache.CACHE_KEY: self.tokens}
        self.read_sessions = async_sessionmaker(self.engine, expire_on_commit=False, info=info)
        self.write_sessions = async_sessionmaker(
            self.engine.execution_options(sqlite_begin="IMMEDIATE"),
            expire_on_commit=False,
            info=info,
        )

    @asynccontextmanager
    async def session(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block succeeds and rolls back otherwise."""
        factory = self.write_sessions if write else self.read_sessions
        async with factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
