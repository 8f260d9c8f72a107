"""The API's periodic sweeps, run by one process of all those sharing the database (the holder of
the `periodic-sweeps` lock, leader_lock.py) rather than by every API process and server:

* pending uploads whose URLs expired (services/files.py, services/dataset_data.py) fail;
* bytes no upload can complete any more are removed (services/transfers.py);
* the objects of deletions whose own removal failed or was cut short (services/object_removals.py).

Each is safe to repeat and to run in two processes at once (a process may lose the lock mid-round);
the lock keeps N API processes and M servers from all doing the same work every interval.
"""

from __future__ import annotations

import asyncio
import logging

from moderately.config import Settings
from moderately.db.session import Database
from moderately.leader_lock import leader_lock
from moderately.services import dataset_data, files, object_removals, transfers
from moderately.services.transfers import Storage

__all__ = ["LOCK_NAME", "sweep_once", "sweep_periodically"]

log = logging.getLogger("moderately")

LOCK_NAME = "periodic-sweeps"


async def sweep_once(database: Database, storage: Storage) -> None:
    try:
        expired = await files.expire_pending_uploads(database, storage)
        expired += await dataset_data.expire_pending_uploads(database, storage)
        if expired:
            log.info("failed %d pending uploads whose URLs expired", expired)
    except Exception:  # the next round tries again
        log.warning("could not expire pending uploads", exc_info=True)
    try:  # bytes no upload can complete any more (late PUTs to S3, crashes)
        await transfers.remove_stale_uploads(storage)
    except Exception:
        log.warning("could not remove stale uploads", exc_info=True)
    try:  # objects of deletions whose own removal failed or was cut short
        await object_removals.drain(database, storage)
    except Exception:
        log.warning("could not remove the objects of deleted rows", exc_info=True)


async def sweep_periodically(database: Database, storage: Storage, settings: Settings) -> None:
    """Every `upload_sweep_interval_seconds`: sweep when this process holds the lock (it keeps
    it until it stops; another process takes it over at its next round once it is gone)."""
    lock = leader_lock(settings, LOCK_NAME)
    try:
        while True:
            try:
                leading = await lock.hold()
            except Exception:  # the database is away: nobody sweeps until it is back
                log.warning("could not take the %s lock", LOCK_NAME, exc_info=True)
                leading = False
            if leading:
                await sweep_once(database, storage)
            await asyncio.sleep(settings.upload_sweep_interval_seconds)
    finally:
        await lock.release()
