"""Pipeline engine overhead per block, next to Prefect 3, and executions/s through the server.

Three measurements in one run, so the ratios hold on any machine:

* engine, in-process: chains of 10/50/100/250 no-op (`identity`) blocks between an `input` and an
  `output` block, compiled once and run with `run_pipeline` on the in-memory context; reported as
  ms per block and blocks/s (the median of `--repeats` runs; input and output blocks counted).
* Prefect 3, the same shape: a flow calling a no-op task N times in a chain (each task's result
  feeds the next), run in its own venv (`--prefect-venv`, default /tmp/prefect-bench, created
  with `pip install prefect` when missing) as a subprocess, on Prefect's ephemeral local API.
* the server (issue 12): `moderately` with its default worker processes (each job in a process
  of its own), on SQLite and on a throwaway PostgreSQL database, the local store, executions
  submitted over HTTP: ms per block of a 100-block chain (one execution at a time, POST to the
  terminal status) and executions/s of the echo pipeline (input -> output), next to the same
  two numbers of the engine in-process.

    python benchmarks/pipeline_engine.py [--repeats 5] [--executions 300] [--chain-runs 10]
        [--databases sqlite,postgresql] [--skip-prefect]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from moderately.engine import compile_pipeline, run_pipeline
from moderately.engine.testing import InMemoryContext
from moderately.testing import create_postgres_database, drop_postgres_database, run_server

POSTGRES = "postgresql://root@127.0.0.1:5432/postgres"

CHAINS = (10, 50, 100, 250)

PREFECT_SCRIPT = r"""
import json, statistics, sys, time
from prefect import flow, task

@task
def noop(value):
    return value

@flow
def chain(length: int, value: str):
    for _ in range(length):
        value = noop(value)
    return value

lengths = [int(x) for x in sys.argv[1].split(",")]
repeats = int(sys.argv[2])
for _ in range(3):  # starts the ephemeral API and registers the flow and task once
    chain(10, "warm-up")
results = {}
for length in lengths:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        assert chain(length, "x") == "x"
        times.append(time.perf_counter() - started)
    results[length] = statistics.median(times)
print("RESULT " + json.dumps(results))
"""


def chain_configuration(length: int) -> dict[str, Any]:
    blocks: dict[str, Any] = {
        "in": {"id": "in", "type": "input", "config": {"json_schema": {"type": "string"}}}
    }
    connections = []
    previous = "in"
    for n in range(1, length + 1):
        key = f"noop_{n}"
        blocks[key] = {"id": key, "type": "identity", "config": {}}
        connections.append(
            {
                "source_block_id": previous,
                "source_port": "data",
                "target_block_id": key,
                "target_port": "data",
            }
        )
        previous = key
    blocks["out"] = {"id": "out", "type": "output", "config": {"name": "result"}}
    connections.append(
        {
            "source_block_id": previous,
            "source_port": "data",
            "target_block_id": "out",
            "target_port": "data",
        }
    )
    return {"id": f"chain_{length}", "name": "chain", "blocks": blocks, "connections": connections}


# ---- engine ----


async def engine_seconds(length: int, repeats: int) -> float:
    plan = compile_pipeline(chain_configuration(length))
    times = []
    for _ in range(repeats + 1):  # the first run warms up
        ctx = InMemoryContext()
        started = time.perf_counter()
        result = await run_pipeline(plan, {"in": "x"}, ctx)
        times.append(time.perf_counter() - started)
        assert result.status == "completed" and result.output == {"result": "x"}, result
    return statistics.median(times[1:])


# ---- Prefect ----


def prefect_seconds(venv: Path, repeats: int) -> dict[int, float] | None:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} and installing Prefect 3 (once)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "prefect>=3,<4"], check=True)
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": tempfile.mkdtemp(prefix="prefect-home-"),
        "PREFECT_LOGGING_LEVEL": "ERROR",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    lengths = ",".join(str(n) for n in CHAINS)
    done = subprocess.run(
        [str(python), "-c", PREFECT_SCRIPT, lengths, str(repeats)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return {int(k): float(v) for k, v in json.loads(line[7:]).items()}
    print("Prefect run failed:\n" + done.stdout[-2000:] + done.stderr[-2000:], file=sys.stderr)
    return None


# ---- the server ----

ECHO = {
    "id": "echo",
    "name": "echo",
    "blocks": {
        "user_input": {
            "id": "user_input",
            "type": "input",
            "config": {"json_schema": {"type": "string"}},
        },
        "echo_result": {"id": "echo_result", "type": "output", "config": {"name": "result"}},
    },
    "connections": [
        {
            "source_block_id": "user_input",
            "source_port": "data",
            "target_block_id": "echo_result",
            "target_port": "data",
        }
    ],
}
TERMINAL = ("completed", "failed", "cancelled")


async def _version(client: httpx.AsyncClient, configuration: dict[str, Any]) -> str:
    name = f"{configuration['id']}-{time.monotonic_ns()}"
    pipeline = (await client.post("/pipelines", json={"name": name})).json()
    version = (
        await client.post(
            "/pipeline-configuration-versions",
            json={"pipelineId": pipeline["pipelineId"], "configuration": configuration},
        )
    ).json()
    return str(version["pipelineConfigurationVersionId"])


RETRIED_503 = [0]  # POSTs answered 503 "database unavailable, retry shortly" (then retried)


async def _submit(client: httpx.AsyncClient, version_id: str, value: dict[str, Any]) -> str:
    body = {
        "pipelineConfigurationVersionId": version_id,
        "pipelineInput": value,
        "pipelineInputSummary": "bench",
    }
    while (created := await client.post("/pipeline-executions", json=body)).status_code == 503:
        RETRIED_503[0] += 1
        await asyncio.sleep(0.05)
    assert created.status_code == 201, created.text
    return str(created.json()["pipelineExecutionId"])


async def chain_latency(client: httpx.AsyncClient, length: int, runs: int) -> float:
    """Median seconds from the POST of one execution of the chain to its terminal status seen
    by polling GET every 5 ms, one execution at a time (the first run warms up)."""
    version_id = await _version(client, chain_configuration(length))
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        execution_id = await _submit(client, version_id, {"in": "x"})
        while True:
            got = (await client.get(f"/pipeline-executions/{execution_id}")).json()
            if got["status"] in TERMINAL:
                break
            await asyncio.sleep(0.005)
        times.append(time.perf_counter() - started)
        assert got["status"] == "completed", got
    return statistics.median(times[1:])


async def echo_rate(client: httpx.AsyncClient, executions: int, submitters: int = 4) -> float:
    """Executions/s of the echo pipeline: `executions` POSTs from `submitters` concurrent
    clients, from the first POST until the last execution is terminal."""
    version_id = await _version(client, ECHO)
    before = await _terminal(client)
    started = time.perf_counter()

    async def submit(count: int) -> None:
        for _ in range(count):
            await _submit(client, version_id, {"user_input": "hello"})

    shares = [executions // submitters + (n < executions % submitters) for n in range(submitters)]
    await asyncio.gather(*(submit(n) for n in shares))
    while await _terminal(client) < before + executions:
        await asyncio.sleep(0.01)
    seconds = time.perf_counter() - started
    failed = await client.get("/pipeline-executions", params={"statuses": "failed,cancelled"})
    assert failed.json()["pagination"]["totalItems"] == 0, failed.text
    return executions / seconds


async def _terminal(client: httpx.AsyncClient) -> int:
    listed = await client.get(
        "/pipeline-executions", params={"statuses": ",".join(TERMINAL), "pageSize": 1}
    )
    return int(listed.json()["pagination"]["totalItems"])


def server_numbers(database: str, length: int, runs: int, executions: int) -> tuple[float, float]:
    """(seconds per execution of the chain, echo executions/s) through `moderately` with its
    default worker processes, on SQLite or on a throwaway PostgreSQL database."""
    url = create_postgres_database(POSTGRES) if database == "postgresql" else None
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-pipelines-") as data_dir,
            run_server(data_dir=Path(data_dir), database_url=url, job_preload_ai=False) as server,
        ):

            async def measure() -> tuple[float, float]:
                headers = {"Authorization": f"Bearer {server.admin.api_key}"}
                async with httpx.AsyncClient(
                    base_url=server.base_url, headers=headers, timeout=60
                ) as client:
                    await _workers_ready(client)
                    chain = await chain_latency(client, length, runs)
                    return chain, await echo_rate(client, executions)

            return asyncio.run(measure())
    finally:
        if url is not None:
            drop_postgres_database(url)


async def _workers_ready(client: httpx.AsyncClient) -> None:
    """One execution end to end, so worker start-up (forkservers) is outside the clock."""
    version_id = await _version(client, ECHO)
    await _submit(client, version_id, {"user_input": "ready"})
    while await _terminal(client) < 1:
        await asyncio.sleep(0.01)


def engine_echo_rate(count: int = 2000) -> float:
    """Echo executions/s of `run_pipeline` in-process (compiled once, in-memory context)."""
    plan = compile_pipeline(ECHO)

    async def main() -> float:
        started = time.perf_counter()
        for _ in range(count):
            result = await run_pipeline(plan, {"user_input": "hello"}, InMemoryContext())
            assert result.status == "completed"
        return count / (time.perf_counter() - started)

    return asyncio.run(main())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--executions", type=int, default=300)
    parser.add_argument("--prefect-venv", type=Path, default=Path("/tmp/prefect-bench"))
    parser.add_argument("--skip-prefect", action="store_true")
    parser.add_argument("--chain-runs", type=int, default=10)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()

    engine = {n: asyncio.run(engine_seconds(n, args.repeats)) for n in CHAINS}
    prefect = None if args.skip_prefect else prefect_seconds(args.prefect_venv, args.repeats)

    print("\nChains of N no-op blocks (N identity blocks + input + output), median of runs")
    header = f"{'N':>5} | {'engine ms/block':>15} {'blocks/s':>10}"
    if prefect:
        header += f" | {'Prefect ms/task':>15} {'tasks/s':>9} | {'Prefect/engine':>14}"
    print(header)
    print("-" * len(header))
    for n in CHAINS:
        per_block = engine[n] / (n + 2) * 1000
        line = f"{n:>5} | {per_block:>15.3f} {1000 / per_block:>10.0f}"
        if prefect:
            per_task = prefect[n] / n * 1000
            line += f" | {per_task:>15.3f} {1000 / per_task:>9.0f} | {per_task / per_block:>13.0f}x"
        print(line)

    echo_engine = engine_echo_rate()
    per_block_engine = engine[100] / 102 * 1000
    print("\nThrough the server (`moderately` with its default worker processes, the local store;")
    print("executions submitted over HTTP). 100-block chain: one execution at a time, POST to")
    print(f"terminal status, median of {args.chain_runs}, per block of 102 (input and output")
    print(f"counted). Echo (input -> output): {args.executions} executions from 4 concurrent")
    print("clients, first POST to last terminal status.")
    header = (
        f"{'database':>10} | {'chain ms/block':>14} {'vs engine':>9}"
        f" | {'echo exec/s':>11} {'engine/server':>13}"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{'in-process':>10} | {per_block_engine:>14.3f} {'1x':>9}"
        f" | {echo_engine:>11.0f} {'1x':>13}"
    )
    for database in args.databases.split(","):
        chain, rate = server_numbers(database, 100, args.chain_runs, args.executions)
        per_block = chain / 102 * 1000
        print(
            f"{database:>10} | {per_block:>14.3f} {per_block / per_block_engine:>8.0f}x"
            f" | {rate:>11.1f} {echo_engine / rate:>12.0f}x"
            "  (issue 12 goal: <= 0.5 ms/block, >= 200 executions/s)"
            + (f"  ({RETRIED_503[0]} POSTs answered 503, retried)" if RETRIED_503[0] else ""),
            flush=True,
        )
        RETRIED_503[0] = 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
