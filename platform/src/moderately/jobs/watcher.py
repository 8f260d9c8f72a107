"""The watcher of one running execution, inside its job's process: it refreshes the cancel and
pause flags from the execution's row every `interval` and writes the engine's progress at most
once per `progress_interval` (a failed block and the end at once), through the lifecycle's
compare-and-set, so a run that lost its execution (cancelled, taken over) writes nothing.

The worker outside the process watches the same row (jobs/isolation.py) and ends the process
when the engine does not stop by itself in time (a block busy on the CPU).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy import select

from moderately.db.models import PipelineExecution
from moderately.db.session import Database
from moderately.jobs.pipeline_context import RunSignals
from moderately.services.lifecycle import CANCELLED, PAUSED, PIPELINE_EXECUTIONS, RUNNING

log = logging.getLogger("moderately.pipelines")

__all__ = ["Watcher", "stop_wanted"]


async def stop_wanted(database: Database, execution_id: str, runner_id: str | None) -> str | None:
    """`cancel` when the run should end (cancelled, deleted, or owned by an attempt other than
    `runner_id` when given), `pause` when it should pause, else None."""
    async with database.session(write=False) as session:
        row = (
            await session.execute(
                select(PipelineExecution.status, PipelineExecution.runner_id).where(
                    PipelineExecution.pipeline_execution_id == execution_id
                )
            )
        ).first()
    taken_over = runner_id is not None and row is not None and row.runner_id != runner_id
    if row is None or taken_over or row.status == CANCELLED:
        return "cancel"
    if row.status == PAUSED:
        return "pause"
    return None


class Watcher:
    def __init__(
        self,
        database: Database,
        execution_id: str,
        runner_id: str,
        signals: RunSignals,
        *,
        interval: float = 0.25,
        progress_interval: float = 1.0,
    ) -> None:
        self.database = database
        self.execution_id = execution_id
        self.runner_id = runner_id
        self.signals = signals
        self.interval = interval
        self.progress_interval = progress_interval
        self._last_write = 0.0

    async def watch(self) -> None:
        signals = self.signals
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that arrives just after the event is set, and the watcher would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await signals.urgent.wait()
            urgent = signals.urgent.is_set()
            signals.urgent.clear()
            try:
                wanted = await stop_wanted(self.database, self.execution_id, self.runner_id)
                signals.cancel = signals.cancel or wanted == "cancel"
                signals.pause = signals.pause or wanted == "pause"
                due = time.monotonic() - self._last_write >= self.progress_interval
                if signals.dirty and (urgent or due):
                    await self.flush()
            except Exception:  # a lost database: the next round tries again
                log.warning("execution %s: watcher round failed", self.execution_id, exc_info=True)

    async def flush(self) -> None:
        signals = self.signals
        if signals.latest is None:
            return
        signals.dirty = False
        self._last_write = time.monotonic()
        values = {} if signals.step is None else {"current_step": signals.step}
        async with self.database.session() as session:
            await PIPELINE_EXECUTIONS.transition(
                session,
                self.execution_id,
                RUNNING,
                expected=(RUNNING,),
                guard={"runner_id": self.runner_id},
                progress=signals.latest,
                values=values,
            )
