"""Standalone workers for real: the API server (no in-process workers) and two `moderately worker`
processes on PostgreSQL; 50 executions; one worker killed with SIGKILL halfway. Every execution
ends terminal and none completes twice (each worker logs one line per final write it made)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_helpers import POSTGRES_ADMIN_URL, TERMINAL
from pipelines_helpers import sleep_chain

from moderately.testing import (
    RunningServer,
    create_postgres_database,
    drop_postgres_database,
    run_server,
)

pytestmark = pytest.mark.anyio

EXECUTIONS = 50
# One team runs all of them: let it use every slot, so a kill always finds work in flight.
TEAM_CAP = 8


@pytest.fixture
def database_url() -> Iterator[str]:
    url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        yield url
    finally:
        drop_postgres_database(url)


def start_worker(url: str, data_dir: Path, log: Path, backend: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MODERATELY_JOB_LEASE_SECONDS": "2",
        "MODERATELY_JOB_RECOVERY_INTERVAL_SECONDS": "0.5",
        "MODERATELY_JOB_POLL_INTERVAL_SECONDS": "0.1",
        "MODERATELY_TEAM_RUNNING_JOBS": str(TEAM_CAP),
    }
    # The tests' block types come through MODERATELY_JOB_MODULES and PYTHONPATH (conftest.py).
    command = [sys.executable, "-m", "moderately.cli", "worker", "--database-url", url]
    command += ["--data-dir", str(data_dir), "--pipeline-slots", "4", "--job-backend", backend]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.parametrize("backend", ["database", "procrastinate"])
async def test_two_workers_one_killed(database_url: str, tmp_path: Path, backend: str) -> None:
    data_dir = tmp_path / "data"
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    with run_server(
        data_dir=data_dir,
        database_url=database_url,
        workers=0,
        job_backend=backend,
        team_running_jobs=TEAM_CAP,
    ) as server:
        workers = [start_worker(database_url, data_dir, log, backend) for log in logs]
        try:
            await drive(server, workers)
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
                    worker.wait(timeout=20)
    completions: dict[str, int] = {}
    for log in logs:
        for line in log.read_text().splitlines():
            if " completed (runner " in line:
                execution_id = line.split("execution ", 1)[1].split(" ", 1)[0]
                completions[execution_id] = completions.get(execution_id, 0) + 1
    assert len(completions) == EXECUTIONS
    assert set(completions.values()) == {1}, completions


async def drive(server: RunningServer, workers: list[subprocess.Popen[bytes]]) -> None:
    headers = {"Authorization": f"Bearer {server.admin.api_key}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as client:
        pipeline = (await client.post("/pipelines", json={"name": "workers"})).json()
        version = await client.post(
            "/pipeline-configuration-versions",
            json={"pipelineId": pipeline["pipelineId"], "configuration": sleep_chain(0.2, 3)},
        )
        assert version.status_code == 201, version.text
        version_id = version.json()["pipelineConfigurationVersionId"]
        ids = []
        for n in range(EXECUTIONS):
            created = await client.post(
                "/pipeline-executions",
                json={
                    "pipelineConfigurationVersionId": version_id,
                    "pipelineInput": {"in": f"run {n}"},
                    "pipelineInputSummary": f"run {n}",
                },
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["pipelineExecutionId"])
        killed = False
        deadline = time.monotonic() + 120
        while True:
            listed = await client.get(
                "/pipeline-executions",
                params={"pipelineIds": pipeline["pipelineId"], "pageSize": 100},
            )
            statuses = {e["pipelineExecutionId"]: e for e in listed.json()["items"]}
            done = [i for i in ids if statuses[i]["status"] in TERMINAL]
            running = [i for i in ids if statuses[i]["status"] == "running"]
            # Halfway, at a moment with work in flight (between two jobs there may be none).
            if not killed and len(done) >= EXECUTIONS // 2 and running:
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait()
                killed = True
            if len(done) == EXECUTIONS:
                break
            assert time.monotonic() < deadline, {i: statuses[i]["status"] for i in ids}
            await asyncio.sleep(0.1)
        assert killed
        for execution_id in ids:
            record = statuses[execution_id]
            assert record["status"] == "completed", record["progressData"]
            assert record["pipelineOutput"] == {"result": record["pipelineInput"]["in"]}
