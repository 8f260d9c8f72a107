"""Removing the stored objects of deleted rows, durably.

A deletion (a file, a dataset, a pipeline or one of its configuration versions, a team) names
the objects its rows owned with `schedule`, in its own transaction: an `object_removals` row per
key or key prefix. Then `remove_after_commit` commits, removes the objects and the rows that
named them. So:

* a deletion that rolls back removes nothing (its removal rows roll back with it);
* a deletion that committed never forgets its objects: if the process dies, or the store is
  unreachable, before they are gone, the rows stay and `drain` (run by the API's periodic
  sweep, periodic_sweeps.py, in one process at a time) removes them later. Removing is
  idempotent, so doing it twice is harmless.

Targets are object keys or prefixes ending with "/" (`ObjectStore.delete_prefix`): a team is
`teams/<teamId>/` plus the `pipeline-executions/<id>/` of each of its executions (outputs,
artifacts, checkpoints), a dataset `teams/<teamId>/datasets/<datasetId>/`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import ObjectRemoval
from moderately.db.session import Database
from moderately.services.transfers import Storage
from moderately.storage import ObjectStore

__all__ = ["drain", "execution_prefix", "remove_after_commit", "schedule"]

log = logging.getLogger("moderately.storage")

# session.info key: the removals this transaction scheduled, done once it commits.
_SCHEDULED = "object_removals_scheduled"
_MAX_ERROR_CHARS = 2000


def execution_prefix(execution_id: str) -> str:
    """Everything a pipeline execution stored: output, artifacts, checkpoint."""
    return f"pipeline-executions/{execution_id}/"


async def schedule(session: AsyncSession, targets: Iterable[str]) -> None:
    """Record, in the session's transaction, objects (keys, or prefixes ending with "/") to
    remove once it commits."""
    rows = [ObjectRemoval(target=target, attempts=0) for target in dict.fromkeys(targets)]
    if not rows:
        return
    session.add_all(rows)
    await session.flush()
    scheduled: list[tuple[str, str]] = session.info.setdefault(_SCHEDULED, [])
    scheduled.extend((row.removal_id, row.target) for row in rows)


async def remove_after_commit(session: AsyncSession, storage: Storage) -> None:
    """Commit the session, then remove what it scheduled. A failure to remove is logged, not
    raised: the deletion stands, and `drain` retries."""
    scheduled: list[tuple[str, str]] = session.info.pop(_SCHEDULED, [])
    await session.commit()
    if scheduled:
        await _remove(session, storage.store, scheduled)
        await session.commit()


async def drain(database: Database, storage: Storage, *, batch: int = 100) -> int:
    """Remove what earlier deletions left behind, oldest first; safe in several processes at
    once. Returns how many removals were done (those that failed again wait for the next call)."""
    done = 0
    after: tuple[datetime, str] | None = None
    while True:
        query = select(ObjectRemoval.removal_id, ObjectRemoval.target, ObjectRemoval.created_at)
        if after is not None:
            query = query.where(
                tuple_(ObjectRemoval.created_at, ObjectRemoval.removal_id) > tuple_(*after)
            )
        async with database.session(write=False) as session:
            rows = (
                await session.execute(
                    query.order_by(ObjectRemoval.created_at, ObjectRemoval.removal_id).limit(batch)
                )
            ).all()
        if rows:
            after = (rows[-1].created_at, rows[-1].removal_id)
            async with database.session() as session:
                done += await _remove(session, storage.store, [(r[0], r[1]) for r in rows])
        if len(rows) < batch:
            return done


async def _remove(
    session: AsyncSession, store: ObjectStore, removals: Sequence[tuple[str, str]]
) -> int:
    """Remove each target; forget those removed, count an attempt for the others."""
    removed: list[str] = []
    for removal_id, target in removals:
        try:
            if target.endswith("/"):
                await store.delete_prefix(target)
            else:
                await store.delete(target)
        except Exception as exc:  # kept for the next sweep
            log.warning("could not remove %s from the object store", target, exc_info=True)
            await session.execute(
                update(ObjectRemoval)
                .where(ObjectRemoval.removal_id == removal_id)
                .values(
                    attempts=ObjectRemoval.attempts + 1,
                    last_error=f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_CHARS],
                )
            )
        else:
            removed.append(removal_id)
    if removed:
        await session.execute(delete(ObjectRemoval).where(ObjectRemoval.removal_id.in_(removed)))
    return len(removed)
