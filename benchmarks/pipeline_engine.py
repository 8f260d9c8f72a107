"""Pipeline engine overhead per block, next to Prefect 3, and executions/s through the server.

Three measurements in one run, so the ratios hold on any machine:

* engine, in-process: chains of 10/50/100/250 no-op (`identity`) blocks between an `input` and an
  `output` block, compiled once and run with `run_pipeline` on the in-memory context; reported as
  ms per block and blocks/s (the median of `--repeats` runs; input and output blocks counted).
* Prefect 3, the same shape: a flow calling a no-op task N times in a chain (each task's result
  feeds the next), run in its own venv (`--prefect-venv`, default /tmp/prefect-bench, created
  with `pip install prefect` when missing) as a subprocess, on Prefect's ephemeral local API.
* the server: `moderately` on SQLite and the local store (in a background thread), executions
  of a 10-block chain submitted over HTTP, with 1 and 2 in-process workers; executions/s from
  the first submission to the last terminal status.

    python benchmarks/pipeline_engine.py [--repeats 5] [--executions 100] [--skip-prefect]
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
from moderately.testing import run_server

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


async def server_rate(workers: int, executions: int, length: int) -> float:
    with (
        tempfile.TemporaryDirectory(prefix="bench-pipelines-") as data_dir,
        run_server(data_dir=Path(data_dir), workers=workers) as server,
    ):
        headers = {"Authorization": f"Bearer {server.admin.api_key}"}
        async with httpx.AsyncClient(
            base_url=server.base_url, headers=headers, timeout=60
        ) as client:
            pipeline = (await client.post("/pipelines", json={"name": "bench"})).json()
            version = (
                await client.post(
                    "/pipeline-configuration-versions",
                    json={
                        "pipelineId": pipeline["pipelineId"],
                        "configuration": chain_configuration(length),
                    },
                )
            ).json()
            body = {
                "pipelineConfigurationVersionId": version["pipelineConfigurationVersionId"],
                "pipelineInput": {"in": "x"},
                "pipelineInputSummary": "bench",
            }
            started = time.perf_counter()
            for _ in range(executions):
                created = await client.post("/pipeline-executions", json=body)
                assert created.status_code == 201, created.text
            while True:
                listed = await client.get(
                    "/pipeline-executions",
                    params={"statuses": "completed,failed,cancelled", "pageSize": 1},
                )
                if listed.json()["pagination"]["totalItems"] >= executions:
                    break
                await asyncio.sleep(0.02)
            seconds = time.perf_counter() - started
            failed = await client.get(
                "/pipeline-executions", params={"statuses": "failed,cancelled"}
            )
            assert failed.json()["pagination"]["totalItems"] == 0, failed.text
            return executions / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--executions", type=int, default=100)
    parser.add_argument("--prefect-venv", type=Path, default=Path("/tmp/prefect-bench"))
    parser.add_argument("--skip-prefect", action="store_true")
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

    print(f"\nThrough the server (SQLite, local store): {args.executions} executions of a")
    print("10-block chain submitted over HTTP, until the last is terminal")
    for workers in (1, 2):
        rate = asyncio.run(server_rate(workers, args.executions, 10))
        print(f"  {workers} worker(s): {rate:7.1f} executions/s ({rate * 12:8.0f} blocks/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
