"""API latency under load: p50/p99 of an authenticated GET while the workers run CPU-bound jobs.

`moderately serve --workers 2` runs in its own process (SQLite and the local store in a temporary
data dir, loopback). `wrk -t1 -c4 -d8s --latency --timeout 10s` measures `GET /agents/{id}` with
a bearer token twice: on the idle server, then while four CPU-bound pipeline executions run
(started first, checked `running` before and after the measurement; two teams, two each, so the
per-team cap on running jobs lets all four run). The heavy pipeline is one `transform` sorting
20,000 objects again and again (platform/tests/adversarial_helpers.heavy_configuration):
pure-Python CPU that touches no budget and never yields. Goal: p99 under load within 3x of idle.

Needs `wrk` (Debian: `apt-get install -y wrk`); exits with a message when it is missing.

Usage: python benchmarks/api_latency.py [--duration 8] [--connections 4] [--sorts 600]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "platform" / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _wrk import ensure_wrk, run_wrk  # noqa: E402
from adversarial_helpers import (  # noqa: E402  (a module of the platform's tests)
    ServerProcess,
    create_version,
    heavy_configuration,
    heavy_input,
    ok,
)

HEAVY_RUNS = 4
GOAL = 3.0


def status_of(client: httpx.Client, execution_id: str) -> str:
    try:
        response = client.get(f"/pipeline-executions/{execution_id}", timeout=5)
        return str(response.json()["status"])
    except (httpx.HTTPError, KeyError, ValueError):
        return "unknown"


def start_heavy(clients: list[httpx.Client], sorts: int) -> list[tuple[httpx.Client, str]]:
    """HEAVY_RUNS executions, spread over the tenants' clients in turn: (client, id) of each
    one the server accepted within 10 s (a server whose event loop runs jobs may not answer)."""
    items = heavy_input()
    versions = [create_version(client, "heavy", heavy_configuration(sorts)) for client in clients]
    started = []
    for n in range(HEAVY_RUNS):
        client, version_id = clients[n % len(clients)], versions[n % len(clients)]
        try:
            response = client.post(
                "/pipeline-executions",
                json={
                    "pipelineConfigurationVersionId": version_id,
                    "pipelineInput": {"in": items},
                    "pipelineInputSummary": "heavy",
                },
                timeout=10,
            )
        except httpx.TimeoutException:
            print(f"heavy execution {n + 1}: no answer in 10 s", file=sys.stderr)
            continue
        started.append((client, str(ok(response, 201)["pipelineExecutionId"])))
    return started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument(
        "--sorts", type=int, default=600, help="sorts per heavy execution (~0.1 s of CPU each)"
    )
    args = parser.parse_args()
    if not ensure_wrk():
        return 2
    with tempfile.TemporaryDirectory(prefix="moderately-latency-") as tmp:
        server = ServerProcess(Path(tmp) / "data", workers=2)
        server.start()
        try:
            return measure(server, args)
        finally:
            server.stop()


def measure(server: ServerProcess, args: argparse.Namespace) -> int:
    admin = server.admin()
    other = server.create_user("bench-b@example.com", "bench b")
    with admin.client() as ca, other.client() as cb:
        agent = ok(ca.post("/agents", json={"name": "latency probe"}), 201)
        url = f"{server.base_url}/agents/{agent['agentId']}"
        assert ca.get(url).status_code == 200
        wrk = {"duration": args.duration, "connections": args.connections}
        idle = run_wrk("idle", url, admin.api_key, **wrk)

        runs = start_heavy([ca, cb], args.sorts)
        deadline = time.monotonic() + 30
        before = [status_of(client, execution_id) for client, execution_id in runs]
        while time.monotonic() < deadline and any(status != "running" for status in before):
            time.sleep(0.25)
            before = [status_of(client, execution_id) for client, execution_id in runs]
        time.sleep(1.0)  # let the job processes get past their start-up
        loaded = run_wrk("loaded", url, admin.api_key, **wrk)
        after = [status_of(client, execution_id) for client, execution_id in runs]
        for client, execution_id in runs:
            with contextlib.suppress(httpx.HTTPError):
                client.post(f"/pipeline-executions/{execution_id}/cancel", timeout=5)

    print(
        f"\nwrk -t1 -c{args.connections} -d{args.duration}s --latency --timeout 10s "
        f"GET /agents/{{id}} (bearer token), "
        f"moderately serve --workers 2, SQLite, {os.cpu_count()} CPUs"
    )
    print(f"heavy executions (transform, {args.sorts} sorts of 20,000 objects each):")
    print(f"  before the loaded run: {', '.join(before) or 'none started'}")
    print(f"  after the loaded run:  {', '.join(after) or 'none started'}")
    header = (
        f"{'server':<10} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for result in (idle, loaded):
        print(
            f"{result.label:<10} {result.requests:>9} {result.per_second:>8.0f} "
            f"{result.p50_ms:>8.2f} {result.p99_ms:>8.2f} {result.max_ms:>8.2f}"
            + (f"   ({result.errors})" if result.errors else "")
        )
    p50_ratio = loaded.p50_ms / idle.p50_ms if idle.p50_ms else float("inf")
    p99_ratio = loaded.p99_ms / idle.p99_ms if idle.p99_ms else float("inf")
    verdict = "within" if p99_ratio <= GOAL else "over"
    print(
        f"{'ratio':<10} {'':>9} {loaded.per_second / idle.per_second:>7.2f}x "
        f"{p50_ratio:>7.2f}x {p99_ratio:>7.2f}x"
    )
    print(f"\np99 under load is {p99_ratio:.2f}x idle: {verdict} the goal of {GOAL:g}x.")
    running = sum(status == "running" for status in after)
    if running < HEAVY_RUNS:
        print(f"note: {running} of {HEAVY_RUNS} heavy executions were running at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
