"""Jobs in processes of their own, for real (jobs/isolation.py, workers/supervisor.py): a server
(in-process app) with small budgets and its supervised worker processes, on SQLite and
PostgreSQL. Over the memory or wall-time budget a job fails with `resource_limit` naming the
setting; a job that kills its own process is retried, then failed for good (`worker_lost`); a
worker process that dies is restarted; one team's busy jobs never take every slot; and after all
of it the workers still run another team's echo pipeline."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import POSTGRES_ADMIN_URL, client_for, unique_email
from block_plugins import CRASH, HOG, SPIN
from fastapi import FastAPI
from pipelines_helpers import echo_configuration, graph, start_configuration, wait_terminal
from sqlalchemy import func, select

from moderately.app import create_app
from moderately.config import Settings
from moderately.db.models import Job
from moderately.services import operator
from moderately.testing import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
TEAM_CAP = 2
BUDGETS = {
    "workers": 2,
    "worker_pipeline_slots": 3,
    "team_running_jobs": TEAM_CAP,
    "job_memory_bytes": 256 * MiB,
    "pipeline_timeout_seconds": 3.0,
    "job_max_attempts": 2,
    "job_poll_interval_seconds": 0.2,
    "job_template_max_output_bytes": 4096,
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    url = None
    if request.param == "postgresql":
        url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        data_dir = tmp_path_factory.mktemp("isolation")
        application = create_app(Settings(data_dir=data_dir, database_url=url, **BUDGETS))
        async with application.router.lifespan_context(application):
            yield application
    finally:
        if url is not None:
            drop_postgres_database(url)


@contextlib.asynccontextmanager
async def team(app: FastAPI) -> AsyncIterator[Any]:
    async with app.state.database.session() as session:
        issued = await operator.create_user_with_token(
            session, email=unique_email("iso"), team_name=unique_email("team")
        )
    async with client_for(app, issued.api_key) as client:
        client.team_id = issued.team_id  # type: ignore[attr-defined]
        yield client


async def start(client: Any, configuration: dict[str, Any], pipeline_input: Any) -> str:
    name = f"p-{time.monotonic_ns()}"
    return await start_configuration(client, configuration, pipeline_input, name)


def one_block(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    return graph(
        {
            "in": ("input", {"json_schema": {"type": "string"}}),
            "work": (kind, config),
            "out": ("output", {"name": "result"}),
        },
        [("in", "data", "work", "data"), ("work", "data", "out", "data")],
    )


async def echo_completes(client: Any) -> None:
    execution_id = await start(client, echo_configuration(), {"user_input": "still here"})
    done = await wait_terminal(client, execution_id, timeout=60)
    assert done["status"] == "completed", done
    assert done["pipelineOutput"] == {"echoed_message": "still here"}


async def test_over_the_memory_budget(app: FastAPI) -> None:
    async with team(app) as client:
        execution_id = await start(client, one_block(HOG, {"megabytes": 600}), {"in": "x"})
        done = await wait_terminal(client, execution_id, timeout=60)
        assert done["status"] == "failed", done
        progress = done["progressData"]
        assert progress["error_type"] == "resource_limit"
        assert "MODERATELY_JOB_MEMORY_BYTES" in progress["error"]
        assert "256.0 MiB" in progress["error"]
        assert done["failedAt"]
        await echo_completes(client)


async def test_engine_budgets_come_from_the_settings(app: FastAPI) -> None:
    """A template that doubles its text at every step fails at the configured 4 KiB."""
    blocks: dict[str, tuple[str, dict[str, Any]]] = {
        "in": ("input", {"json_schema": {"type": "string"}})
    }
    edges = []
    previous = "in"
    for n in range(20):
        blocks[f"t{n}"] = ("string_template", {"template": "{{data}}{{data}}"})
        edges.append((previous, "data", f"t{n}", "data"))
        previous = f"t{n}"
    blocks["out"] = ("output", {"name": "result"})
    edges.append((previous, "data", "out", "data"))
    async with team(app) as client:
        execution_id = await start(client, graph(blocks, edges), {"in": "ab"})
        done = await wait_terminal(client, execution_id, timeout=60)
        assert done["status"] == "failed", done
        assert done["progressData"]["error_type"] == "resource_limit"
        assert "MODERATELY_JOB_TEMPLATE_MAX_OUTPUT_BYTES" in done["progressData"]["error"]
        assert done["progressData"]["failed_block"] == "t11"  # 2 bytes x 2^12 > 4 KiB


async def test_past_the_wall_time_budget(app: FastAPI) -> None:
    """A block busy on the CPU never lets the engine's own timeout speak: the worker ends it."""
    async with team(app) as client:
        execution_id = await start(client, one_block(SPIN, {"seconds": 60}), {"in": "x"})
        done = await wait_terminal(client, execution_id, timeout=30)
        assert done["status"] == "failed", done
        assert done["progressData"]["error_type"] == "timeout"
        assert "MODERATELY_PIPELINE_TIMEOUT_SECONDS" in done["progressData"]["error"]
        assert done["progressData"]["running_blocks"] == []
        await echo_completes(client)


async def test_a_poison_job_fails_for_good(app: FastAPI) -> None:
    """Its process dies on every attempt; the worker lives, the queue gives up after two."""
    async with team(app) as client:
        execution_id = await start(client, one_block(CRASH, {}), {"in": "x"})
        done = await wait_terminal(client, execution_id, timeout=60)
        assert done["status"] == "failed", done
        assert done["progressData"]["error_type"] == "worker_lost"
        assert "SIGKILL" in done["progressData"]["error"]
        async with app.state.database.session(write=False) as session:
            jobs = (await session.scalars(select(Job))).all()
        job = next(j for j in jobs if j.payload.get("pipelineExecutionId") == execution_id)
        assert (job.status, job.attempts) == ("failed", 2)
        await echo_completes(client)


async def test_a_dead_worker_process_is_restarted(app: FastAPI) -> None:
    supervisor = app.state.workers
    before = supervisor.pids()
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while len(supervisor.pids()) < 2 or before[0] in supervisor.pids():
        assert time.monotonic() < deadline, supervisor.pids()
        await asyncio.sleep(0.1)
    assert supervisor.restarts >= 1
    async with team(app) as client:
        await echo_completes(client)


async def test_one_team_cannot_take_every_slot(app: FastAPI) -> None:
    """Team B queues more busy jobs than there are slots; at most TEAM_CAP of them run at once,
    and team A's echo pipeline completes while B's jobs are still running."""
    database = app.state.database
    async with team(app) as hostile, team(app) as victim:
        busy = one_block(SPIN, {"seconds": 0.5})
        hostile_ids = [await start(hostile, busy, {"in": str(n)}) for n in range(5)]
        await echo_completes(victim)
        finished_first = 0
        for execution_id in hostile_ids:
            record = (await hostile.get(f"/pipeline-executions/{execution_id}")).json()
            finished_first += record["status"] not in ("pending", "running")
        assert finished_first < len(hostile_ids)  # the echo did not wait for all of them
        most = 0
        while True:
            async with database.session(write=False) as session:
                running = await session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.status == "running", Job.team_id == hostile.team_id)
                )
            most = max(most, int(running or 0))
            records = [(await hostile.get(f"/pipeline-executions/{i}")).json() for i in hostile_ids]
            if all(r["status"] not in ("pending", "running") for r in records):
                break
            await asyncio.sleep(0.05)
        assert 1 <= most <= TEAM_CAP
        assert {r["status"] for r in records} == {"completed"}


def test_settings_reach_the_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The supervisor hands its settings over as MODERATELY_* variables, secrets included."""
    settings = Settings(data_dir=tmp_path, signing_secret="s" * 20, **BUDGETS)
    env = settings.environment()
    assert env["MODERATELY_JOB_MEMORY_BYTES"] == str(256 * MiB)
    assert env["MODERATELY_SIGNING_SECRET"] == "s" * 20
    assert "MODERATELY_DATABASE_URL" not in env  # unset: the worker derives the same default
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    rebuilt = Settings()
    assert rebuilt.model_dump() == settings.model_dump()


def test_the_forkserver_preloads_what_every_job_would_load() -> None:
    """jobs/preload.py: imported once in each worker's forkserver, it loads the block types,
    the models' mappers and the job code, which each job's process would otherwise load."""
    import subprocess
    import sys

    from moderately.jobs.child import preloaded_modules

    assert preloaded_modules(Settings(job_preload_ai=False))[0] == "moderately.jobs.preload"
    probe = (
        "import sys, moderately.jobs.preload\n"
        "from moderately.engine import registry\n"
        "from moderately.db.models import Base\n"
        "print(registry._LOADED, 'moderately.engine.blocks.identity' in sys.modules,"
        " 'moderately.jobs.pipeline_execute' in sys.modules, Base.registry._new_mappers)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["True", "True", "True", "False"]
