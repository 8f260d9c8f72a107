"""Requests per second of DB-backed GETs through the full server, next to references.

The server runs as `moderately serve` in its own process (uvicorn, SQLite in a temporary data
dir, loopback). An httpx.AsyncClient drives it with bounded concurrency and a bounded number of
requests per endpoint. Reported in the same run, so the ratios are meaningful on any machine:

* GET /health         - the full HTTP stack and middleware, no token, no database;
* GET /agents/{id}    - token lookup + membership + one row, through the whole stack;
* GET /agents         - the same plus a count and a page of 10 rows;
* sqlite3 SELECT      - the row lookup alone, in-process, no HTTP, no ORM (a floor for the DB part).

Usage: python benchmarks/server_throughput.py [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Result:
    label: str
    count: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "moderately.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--log-level", "warning"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited during startup")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start in 30 s")


def read_credentials(data_dir: Path) -> dict[str, str]:
    lines = (data_dir / "credentials.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


async def drive(
    client: httpx.AsyncClient, label: str, path: str, *, count: int, concurrency: int
) -> Result:
    """`count` GETs of `path`, at most `concurrency` in flight; every answer must be 200."""
    latencies: list[float] = []
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            next_index += 1
            started = time.perf_counter()
            response = await client.get(path)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")

    for _ in range(min(50, count)):  # warm up connections and caches
        await client.get(path)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(label, count, time.perf_counter() - started, latencies)


def sqlite_reference(db_path: Path, agent_id: str, count: int) -> Result:
    connection = sqlite3.connect(db_path)
    query = "SELECT agent_id, team_id, name, description FROM agents WHERE agent_id = ?"
    latencies: list[float] = []
    started = time.perf_counter()
    for _ in range(count):
        t = time.perf_counter()
        assert connection.execute(query, (agent_id,)).fetchone() is not None
        latencies.append((time.perf_counter() - t) * 1000)
    seconds = time.perf_counter() - started
    connection.close()
    return Result("sqlite3 SELECT by id (in-process)", count, seconds, latencies)


async def measure(
    base_url: str, api_key: str, *, count: int, concurrency: int
) -> tuple[list[Result], str]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits) as client:
        agent_ids = []
        for i in range(50):
            response = await client.post("/agents", json={"name": f"bench-{i}"})
            response.raise_for_status()
            agent_ids.append(response.json()["agentId"])
        results = [
            await drive(client, "GET /health (no DB)", "/health", count=count,
                        concurrency=concurrency),
            await drive(client, "GET /agents/{id}", f"/agents/{agent_ids[25]}", count=count,
                        concurrency=concurrency),
            await drive(client, "GET /agents?pageSize=10", "/agents?pageSize=10", count=count,
                        concurrency=concurrency),
        ]  # fmt: skip
    return results, agent_ids[25]


def print_table(results: list[Result], reference: Result, concurrency: int) -> None:
    health = results[0].per_second
    print(
        f"\nconcurrency {concurrency}, SQLite (WAL) in a temporary data dir, {os.cpu_count()} CPUs"
    )
    columns = ("count", 6), ("per s", 9), ("p50 ms", 8), ("p99 ms", 8), ("vs /health", 11)
    header = f"{'operation':<36}" + "".join(f" {name:>{width}}" for name, width in columns)
    print(header)
    print("-" * len(header))
    for result in [*results, reference]:
        ratio = result.per_second / health
        print(
            f"{result.label:<36} {result.count:>6} {result.per_second:>9.0f} "
            f"{result.percentile(0.5):>8.2f} {result.percentile(0.99):>8.2f} {ratio:>10.2f}x"
        )
    db_get = results[1].per_second
    print(
        f"\nGET /agents/{{id}} serves {db_get / health:.0%} of the no-DB rate; the raw row lookup "
        f"is {reference.per_second / db_get:.0f}x faster than the HTTP round trip."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="moderately-bench-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        server = start_server(data_dir, port)
        try:
            credentials = read_credentials(data_dir)
            results, agent_id = asyncio.run(
                measure(
                    credentials["MODERATELY_BASE_URL"],
                    credentials["MODERATELY_API_KEY"],
                    count=args.requests,
                    concurrency=args.concurrency,
                )
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
        reference = sqlite_reference(data_dir / "moderately.db", agent_id, args.requests * 10)
    print_table(results, reference, args.concurrency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
