"""The body of a job's own process (started by jobs/isolation.py).

It lowers its CPU priority (the API and the other teams' small jobs come first), opens its own
database engine and object store, runs the handler of its kind, and sends one verdict back on
the pipe: `("ok", "")`, `("resource_limit", message)` for a `MemoryError`, or `("error", text)`
for anything else (the queue retries; the text names the exception's kind, the log holds the
rest). Importing this module loads the job code; the forkserver preloads it (jobs/preload.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import sys
from multiprocessing.connection import Connection

from moderately import logredact
from moderately.ai.limits import SharedSlots, install_shared_slots
from moderately.config import Settings
from moderately.workers.base import Job

__all__ = ["NICENESS", "job_modules", "main"]

# Added to the job process's nice value: below the API and the worker's own loop.
NICENESS = 10


# Heavy imports of agent and LLM jobs, done once in the forkserver (setting job_preload_ai).
AI_MODULES = (
    "moderately.ai.chat",
    "moderately.ai.openai_compat",
    "moderately.ai.anthropic_native",
    "moderately.agents.runtime",
)


def job_modules(settings: Settings) -> list[str]:
    """The `job_modules` setting's modules (e.g. custom block types)."""
    return [name.strip() for name in settings.job_modules.split(",") if name.strip()]


def preloaded_modules(settings: Settings) -> list[str]:
    """What the forkserver imports once for every job process it forks."""
    ai = list(AI_MODULES) if settings.job_preload_ai else []
    return ["moderately.jobs.preload", *_main_module(), *ai, *job_modules(settings)]


def _main_module() -> list[str]:
    """The worker's main module when it was started as one (`python -m moderately.cli`):
    multiprocessing runs it again in every process it starts (as `__mp_main__`), so its imports
    (the migrations' alembic, for the CLI) are loaded once in the forkserver instead. A main
    module named `__main__` (a package's) is not run again; it is left alone."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    name = getattr(spec, "name", None)
    if not name or name == "__main__" or name.endswith(".__main__"):
        return []
    return [str(name)]


def main(
    settings: Settings,
    kind: str,
    job: Job,
    sender: Connection,
    llm_slots: SharedSlots | None = None,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides when a job ends
    logredact.install()  # a forkserver child does not inherit the worker's record factory
    install_shared_slots(llm_slots)  # the worker's cap on LLM calls in flight
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    if not logging.getLogger().handlers:  # the forkserver does not carry the worker's set-up
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        for name in job_modules(settings):
            importlib.import_module(name)
        asyncio.run(_run(settings, kind, job))
    except MemoryError:
        _send(sender, "resource_limit", _memory_message(settings))
    except BaseException as exc:  # reported to the worker, which lets the queue retry
        logging.getLogger("moderately.workers").warning(
            "job %s (%s) failed", job.job_id, kind, exc_info=True
        )
        # The worker stores this for clients to read: the kind only, the text stays in the log.
        _send(sender, "error", f"the job raised {type(exc).__name__} (see the worker's log)")
    else:
        _send(sender, "ok", "")
    finally:
        sender.close()


async def _run(settings: Settings, kind: str, job: Job) -> None:
    from moderately.composition import job_runtime
    from moderately.jobs import job_handlers

    async with job_runtime(settings) as runtime:
        await job_handlers(runtime)[kind].run(job)


def _memory_message(settings: Settings) -> str:
    from moderately.jobs.isolation import describe_bytes

    budget = describe_bytes(settings.job_memory_bytes)
    return f"the job ran out of memory (budget {budget}, MODERATELY_JOB_MEMORY_BYTES)"


def _send(sender: Connection, kind: str, message: str) -> None:
    with contextlib.suppress(Exception):
        sender.send((kind, message))


# What the forkserver preloads: the job code, so each job's process starts warm.
import moderately.jobs  # noqa: E402, F401
