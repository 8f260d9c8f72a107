"""The watcher of one running execution (a pipeline's, or an agent's with `AGENT_EXECUTIONS`),
inside its job's process: it refreshes the cancel and pause flags from the execution's row every
`interval` and writes the engine's progress at most once per `progress_interval` (a failed block
at once; the end is the job's own write), through the lifecycle's compare-and-set, so a run that
lost its execution (cancelled, taken over) writes nothing.

It runs on a thread of its own, with its own event loop and database engine: a block busy on
the CPU holds the engine's loop, and its progress ("running") is still written meanwhile.

The worker outside the process watches the same row (jobs/isolation.py) and ends the process
when the engine does not stop by itself in time (a block busy on the CPU).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from sqlalchemy import select

from moderately.config import Settings
from moderately.db.session import Database
from moderately.jobs.pipeline_context import RunSignals
from moderately.services.lifecycle import PIPELINE_EXECUTIONS, Lifecycle
from moderately.statuses import ExecutionStatus

log = logging.getLogger("moderately.pipelines")

__all__ = ["Watcher", "stop_wanted"]


async def stop_wanted(
    database: Database,
    execution_id: str,
    runner_id: str | None,
    lifecycle: Lifecycle = PIPELINE_EXECUTIONS,
) -> str | None:
    """`cancel` when the run should end (cancelled, deleted, or owned by an attempt other than
    `runner_id` when given), `pause` when it should pause, else None."""
    model = lifecycle.model
    async with database.session(write=False) as session:
        row = (
            await session.execute(
                select(getattr(model, lifecycle.status).label("status"), model.runner_id).where(
                    getattr(model, lifecycle.key) == execution_id
                )
            )
        ).first()
    taken_over = runner_id is not None and row is not None and row.runner_id != runner_id
    if row is None or taken_over or row.status == ExecutionStatus.CANCELLED:
        return "cancel"
    if row.status == ExecutionStatus.PAUSED:
        return "pause"
    return None


class Watcher:
    def __init__(
        self,
        settings: Settings,
        execution_id: str,
        runner_id: str,
        signals: RunSignals,
        *,
        interval: float = 0.25,
        progress_interval: float = 1.0,
        lifecycle: Lifecycle = PIPELINE_EXECUTIONS,
    ) -> None:
        self.settings = settings
        self.execution_id = execution_id
        self.runner_id = runner_id
        self.signals = signals
        self.interval = interval
        self.progress_interval = progress_interval
        self.lifecycle = lifecycle
        self._last_write = 0.0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=asyncio.run,
            args=(self._watch(),),
            name=f"watcher-{self.execution_id}",
            daemon=True,
        )
        self._thread.start()

    async def stop(self) -> None:
        """Stop the thread (its last round finishes first)."""
        self._stopping.set()
        self.signals.urgent.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    async def _watch(self) -> None:
        database = Database(self.settings, pool_size=1)
        try:
            while not self._stopping.is_set():
                # Blocking is fine: this loop has nothing else to do.
                urgent = self.signals.urgent.wait(self.interval)
                self.signals.urgent.clear()
                if self._stopping.is_set():
                    return
                await self._round(database, urgent)
        finally:
            await database.dispose()

    async def _round(self, database: Database, urgent: bool) -> None:
        signals = self.signals
        try:
            wanted = await stop_wanted(database, self.execution_id, self.runner_id, self.lifecycle)
            signals.cancel = signals.cancel or wanted == "cancel"
            signals.pause = signals.pause or wanted == "pause"
            due = time.monotonic() - self._last_write >= self.progress_interval
            if signals.dirty and (urgent or due):
                await self._flush(database)
        except Exception:  # a lost database: the next round tries again
            log.warning("execution %s: watcher round failed", self.execution_id, exc_info=True)

    async def _flush(self, database: Database) -> None:
        signals = self.signals
        latest, step = signals.latest, signals.step
        if latest is None:
            return
        signals.dirty = False
        self._last_write = time.monotonic()
        values = {} if step is None else {"current_step": step}
        async with database.session() as session:
            await self.lifecycle.transition(
                session,
                self.execution_id,
                ExecutionStatus.RUNNING,
                expected=(ExecutionStatus.RUNNING,),
                guard={"runner_id": self.runner_id},
                progress=latest,
                values=values,
            )
