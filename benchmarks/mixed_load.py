"""32 async SDK clients at once against one server: 25% create, 25% list, 50% get, for 20 s.

`moderately serve` runs with its defaults in its own process (in-process job workers, the local
store in a temporary data dir, loopback), on SQLite and on PostgreSQL (a throwaway database on
the local server). This process runs 32 `AsyncModeratelyAI` clients on one event loop, each in
a closed loop (its next call when its last one answered): `agents.create` (25%),
`agents.list()` (25%), `agents.retrieve` of an agent created before the run (50%). Reported:
operations/s, p50/p99 latency per kind and overall, and every error by kind.

The clients share the two cores with the server, so their own CPU limits the rate too; the
per-request CPU of the server alone is `server_throughput.py`'s measure.

Goals (issue 12): zero errors, p99 <= 250 ms, >= 400 operations/s, on both databases.

    python benchmarks/mixed_load.py [--clients 32] [--duration 20] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "platform" / "tests"))

from _servers import served  # noqa: E402
from _wrk import cpu_seconds  # noqa: E402
from adversarial_helpers import Tenant  # noqa: E402  (the platform tests' helper)
from moderatelyai_sdk import AsyncModeratelyAI  # noqa: E402

GOALS = {"p99_ms": 250.0, "per_second": 400.0}
KINDS = ("create", "list", "get")
WEIGHTS = (25, 25, 50)


async def client_loop(
    client: AsyncModeratelyAI,
    known: list[str],
    deadline: float,
    seed: int,
    latencies: dict[str, list[float]],
    errors: Counter[str],
) -> None:
    rng = random.Random(seed)
    made = 0
    while time.monotonic() < deadline:
        kind = rng.choices(KINDS, WEIGHTS)[0]
        started = time.perf_counter()
        try:
            if kind == "create":
                made += 1
                await client.agents.create(name=f"load {seed}-{made}")
            elif kind == "list":
                await client.agents.list()
            else:
                await client.agents.retrieve(rng.choice(known))
        except Exception as exc:  # every failure is counted and named, none stops the run
            errors[f"{kind}: {type(exc).__name__}: {str(exc)[:80]}"] += 1
            continue
        latencies[kind].append((time.perf_counter() - started) * 1000)


async def drive(tenant: Tenant, clients: int, duration: float) -> tuple[dict, Counter[str], float]:
    sdk = [
        AsyncModeratelyAI(
            api_key=tenant.api_key, team_id=tenant.team_id, base_url=tenant.base_url, timeout=30
        )
        for _ in range(clients)
    ]
    try:
        known = [(await sdk[0].agents.create(name=f"seed {n}"))["agentId"] for n in range(20)]
        for client in sdk:  # every client's connection and the server's caches are warm
            await client.agents.retrieve(known[0])
        latencies: dict[str, list[float]] = defaultdict(list)
        errors: Counter[str] = Counter()
        started = time.monotonic()
        deadline = started + duration
        await asyncio.gather(
            *(
                client_loop(client, known, deadline, n, latencies, errors)
                for n, client in enumerate(sdk)
            )
        )
        return latencies, errors, time.monotonic() - started
    finally:
        for client in sdk:
            await client.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run(database: str, clients: int, duration: float) -> bool:
    with served(database) as server:
        assert server.process is not None
        server_before, client_before = cpu_seconds(server.process.pid), time.process_time()
        latencies, errors, seconds = asyncio.run(drive(server.admin(), clients, duration))
        server_cpu = cpu_seconds(server.process.pid) - server_before
        client_cpu = time.process_time() - client_before
    everything = [v for kind in KINDS for v in latencies[kind]]
    done = len(everything)
    print(f"\n{database}: {clients} async SDK clients, {duration:g} s, moderately serve defaults")
    header = f"{'operation':<10} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}"
    print(header + "\n" + "-" * len(header))
    for kind in (*KINDS, "all"):
        values = everything if kind == "all" else latencies[kind]
        print(
            f"{kind:<10} {len(values):>7} {statistics.median(values) if values else 0:>8.1f} "
            f"{percentile(values, 0.99):>8.1f}"
        )
    per_second = done / seconds
    p99 = percentile(everything, 0.99)
    failed = sum(errors.values())
    for message, count in errors.most_common():
        print(f"error x{count}: {message}")
    # Where the two cores went: a closed loop of 32 clients is bound by CPU per operation.
    print(
        f"CPU per operation: server {server_cpu * 1000 / max(1, done):.2f} ms, "
        f"these SDK clients {client_cpu * 1000 / max(1, done):.2f} ms "
        f"(server {server_cpu / seconds:.2f} and clients {client_cpu / seconds:.2f} of "
        f"{os.cpu_count()} cores)"
    )
    met = failed == 0 and p99 <= GOALS["p99_ms"] and per_second >= GOALS["per_second"]
    print(
        f"{per_second:.0f} operations/s (goal >= {GOALS['per_second']:g}), p99 {p99:.0f} ms "
        f"(goal <= {GOALS['p99_ms']:g}), {failed} errors (goal 0): {'met' if met else 'not met'}"
    )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    for database in args.databases.split(","):
        run(database, args.clients, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
