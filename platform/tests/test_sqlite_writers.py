"""Write transactions of one process take turns on SQLite (db/sqlite_writers.py): many at once
all commit, in order of arrival, a turn comes back however the transaction ends, and a second
write transaction opened while the same code holds one fails as SQLite would (503) instead of
waiting forever."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from moderately.config import Settings
from moderately.db.migrate import upgrade_to_head
from moderately.db.models import Team
from moderately.db.session import Database

pytestmark = pytest.mark.anyio


@pytest.fixture
async def database(tmp_path: Path) -> Database:
    settings = Settings(data_dir=tmp_path, sqlite_busy_timeout_ms=300)
    await asyncio.to_thread(upgrade_to_head, settings)
    db = Database(settings)
    yield db  # type: ignore[misc]
    await db.dispose()


async def _teams(database: Database) -> int:
    async with database.session(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Team)) or 0)


async def test_many_write_transactions_at_once_all_commit_in_arrival_order(
    database: Database,
) -> None:
    order: list[int] = []

    async def write(n: int) -> None:
        async with database.session() as session:
            order.append(n)  # inside the turn: its BEGIN IMMEDIATE has run
            session.add(Team(name=f"team {n}"))
            await session.flush()
            await asyncio.sleep(0.01)  # hold the turn across an await

    await asyncio.gather(*(write(n) for n in range(20)))
    assert await _teams(database) == 20
    assert order == sorted(order)  # first come, first served


async def test_a_turn_comes_back_after_a_rollback(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            session.add(Team(name="rolled back"))
            await session.flush()
            raise RuntimeError("boom")
    async with database.session() as session:  # would wait for the turn otherwise
        session.add(Team(name="kept"))
    assert await _teams(database) == 1


async def test_a_read_session_takes_no_turn(database: Database) -> None:
    async with database.session() as writer:
        writer.add(Team(name="in flight"))
        await writer.flush()
        # WAL: a reader runs beside the writer and sees the last committed state.
        assert await _teams(database) == 0
    assert await _teams(database) == 1


async def test_a_second_write_transaction_inside_one_fails_as_sqlite_would(
    database: Database,
) -> None:
    async with database.session() as outer:
        await outer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the turn is held
        with pytest.raises(OperationalError, match="database is locked"):
            async with database.session() as inner:
                await inner.execute(text("SELECT 1"))
        outer.add(Team(name="outer"))
    assert await _teams(database) == 1
    async with database.session() as session:  # and nothing is left holding a turn
        session.add(Team(name="after"))
    assert await _teams(database) == 2


async def test_an_invalidated_connection_gives_its_turn_back(database: Database) -> None:
    async with database.session() as session:
        connection = await session.connection()
        await connection.invalidate()
        await session.rollback()
    async with database.session() as session:
        session.add(Team(name="after invalidation"))
    assert await _teams(database) == 1


async def test_cancelled_writers_leave_no_turn_behind(database: Database) -> None:
    holding = asyncio.Event()

    async def holder() -> None:
        async with database.session() as session:
            await session.execute(text("SELECT 1"))
            holding.set()
            await asyncio.Event().wait()  # until cancelled, holding the turn

    async def waiter() -> None:
        async with database.session() as session:
            await session.execute(text("SELECT 1"))

    held = asyncio.create_task(holder())
    await holding.wait()
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0.05)  # queued for the turn
    waiting.cancel()
    held.cancel()
    for task in (waiting, held):
        with pytest.raises(asyncio.CancelledError):
            await task
    async with database.session() as session:  # a lost turn would fail here after 300 ms
        session.add(Team(name="after"))
    assert await _teams(database) == 1
