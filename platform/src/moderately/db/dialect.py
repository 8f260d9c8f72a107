"""Where SQLite and PostgreSQL differ in how rows are locked, in one place.

PostgreSQL runs many writers at once, so a read that decides a write takes a row lock:
`SELECT ... FOR UPDATE`, or `FOR UPDATE SKIP LOCKED` when any free row will do (a worker claiming
a job passes over the ones other workers are claiming). SQLite runs one writer at a time: write
sessions begin with `BEGIN IMMEDIATE` (db/session.py), so the whole transaction already holds
the database's write lock and the clauses are not needed (SQLAlchemy renders none there).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select

S = TypeVar("S", bound=Select[Any])


def for_update(stmt: S) -> S:
    """Lock the selected rows until the transaction ends (another promotion waits its turn).

    `populate_existing`: a row already loaded in the session is refreshed from the locked read.
    """
    return stmt.with_for_update().execution_options(populate_existing=True)


def skip_locked(stmt: S) -> S:
    """Lock the selected rows, passing over rows another transaction holds (job claims)."""
    return stmt.with_for_update(skip_locked=True)
