"""A token-authenticated read next to `GET /health`, through the full server, measured with wrk.

`moderately serve` runs with its defaults in its own process (in-process job workers, the local
store in a temporary data dir, loopback), once on SQLite and once on PostgreSQL (a throwaway
database on the local server). wrk (C; a Python client would be the bottleneck on two cores)
measures, in the same run:

* `GET /health`: the whole HTTP stack and middleware, no token, no database: the reference;
* `GET /agents/{id}` with a bearer token: authentication, the team check and one row with its
  run metrics, at 8 connections (throughput) and at 1 connection (latency);
* the server process's CPU per request (user + system, from /proc), which other work on the
  machine moves much less than a rate.

Goals (issue 12): the authenticated GET at >= 0.5x the requests/s of /health, p50 <= 1 ms on
one connection, on both databases. Needs wrk (installed with apt-get when missing and possible).

    python benchmarks/server_throughput.py [--duration 8] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "platform" / "tests"))

from _servers import served  # noqa: E402
from _wrk import WrkResult, cpu_seconds, ensure_wrk, run_wrk  # noqa: E402
from adversarial_helpers import ServerProcess, ok  # noqa: E402  (the platform tests' helper)

RATIO_GOAL = 0.5
P50_GOAL_MS = 1.0


@dataclass(frozen=True)
class Measured:
    result: WrkResult
    cpu_ms: float  # the server process's CPU per request


def measure(label: str, server: ServerProcess, url: str, token: str | None, **wrk: int) -> Measured:
    assert server.process is not None
    before = cpu_seconds(server.process.pid)
    result = run_wrk(label, url, token, **wrk)
    used = cpu_seconds(server.process.pid) - before
    return Measured(result, used * 1000 / max(1, result.requests))


def bench(database: str, duration: int) -> list[Measured]:
    with served(database) as server:
        admin = server.admin()
        with admin.client() as client:
            agent = ok(client.post("/agents", json={"name": "probe"}), 201)
        get_url = f"{server.base_url}/agents/{agent['agentId']}"
        measure("warm-up", server, get_url, admin.api_key, duration=2, connections=8)
        return [
            measure("GET /health", server, f"{server.base_url}/health", None,
                    duration=duration, connections=8),
            measure("GET /agents/{id}", server, get_url, admin.api_key,
                    duration=duration, connections=8),
            measure("GET /agents/{id}, 1 connection", server, get_url, admin.api_key,
                    duration=duration, connections=1),
        ]  # fmt: skip


def report(database: str, rows: list[Measured]) -> bool:
    print(f"\n{database}: moderately serve defaults, wrk -t1 --latency, {os.cpu_count()} CPUs")
    header = f"{'request':<32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11}"
    print(header + "\n" + "-" * len(header))
    for row in rows:
        r = row.result
        print(
            f"{r.label:<32} {r.per_second:>8.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{row.cpu_ms:>11.3f}" + (f"   ({r.errors})" if r.errors else "")
        )
    health, get, single = (row.result for row in rows)
    ratio = get.per_second / health.per_second
    cpu_ratio = rows[0].cpu_ms / rows[1].cpu_ms
    met = ratio >= RATIO_GOAL and single.p50_ms <= P50_GOAL_MS
    print(
        f"authenticated GET / health: {ratio:.2f}x by req/s, {cpu_ratio:.2f}x by CPU per request "
        f"(goal >= {RATIO_GOAL}x); p50 on one connection {single.p50_ms:.2f} ms "
        f"(goal <= {P50_GOAL_MS} ms): {'met' if met else 'not met'}"
    )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    if not ensure_wrk():
        return 2
    for database in args.databases.split(","):
        report(database, bench(database, args.duration))
    return 0


if __name__ == "__main__":
    sys.exit(main())
