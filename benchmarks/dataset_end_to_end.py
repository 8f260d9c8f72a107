"""A dataset end to end through a real server: upload + infer + process a 300,000-row CSV with the
SDK against `moderately serve` (a process of its own, SQLite, local store, 2 workers), against
DuckDB reading the same file in the same run.

Steps timed (one client, the README's flow): create a dataset, ``upload_data(path)``,
``create_schema_from_sample(path, status="current")``, ``process()`` (waits until processed).
Each step is timed on its own; the total is compared with the reference.

Reference: ``SELECT count(*), max(<every column>) FROM read_csv(path)`` on a fresh DuckDB
connection, DuckDB sniffing the dialect and the types as it does by default: the whole file is
parsed into typed values, which is what the server has to do (count, check every value), and
the sniffing is DuckDB's own inference. (``count(*)`` alone lets DuckDB skip converting values,
``fetchall()`` of every row measures building 3 million Python objects: both are printed.)

    python benchmarks/dataset_end_to_end.py [--rows N] [--repeats R] [--profile DIR]

``--profile DIR`` records the server and its workers with py-spy (raw stacks per process in DIR).
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "platform" / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from adversarial_helpers import ServerProcess  # noqa: E402  (a module of the platform's tests)
from dataset_processing import SCHEMA, generate  # noqa: E402
from moderatelyai_sdk import ModeratelyAI  # noqa: E402


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def duck_full(path: Path) -> int:
    con = duckdb.connect()
    cols = ", ".join(f'max("{c.name}")' for c in SCHEMA)
    try:
        return int(con.sql(f"SELECT count(*), {cols} FROM read_csv('{path}')").fetchall()[0][0])
    finally:
        con.close()


def duck_count(path: Path) -> int:
    con = duckdb.connect()
    try:
        return int(con.sql(f"SELECT count(*) FROM read_csv('{path}')").fetchall()[0][0])
    finally:
        con.close()


def duck_fetchall(path: Path) -> int:
    con = duckdb.connect()
    try:
        return len(con.read_csv(str(path)).fetchall())
    finally:
        con.close()


def end_to_end(client: ModeratelyAI, path: Path, rows: int) -> dict[str, float]:
    steps: dict[str, float] = {}
    t0 = time.perf_counter()
    dataset = client.datasets.create(name="bench")
    steps["create dataset"] = time.perf_counter() - t0
    t, version = timed(lambda: dataset.upload_data(path))
    steps["upload_data (PUT, hash, count)"] = t
    t, schema = timed(lambda: dataset.create_schema_from_sample(path, status="current"))
    steps["create_schema_from_sample"] = t
    t, _ = timed(lambda: dataset.process())
    steps["process (queue, validate, wait)"] = t
    steps["total"] = time.perf_counter() - t0
    assert version.row_count == rows, version.row_count
    assert dataset.record_count == rows, dataset.record_count
    got = [(c.name, c.type, c.nullable) for c in schema.columns]
    want = [(c.name, c.type, c.name == "quantity") for c in SCHEMA]
    # (The sample may have no blank quantity: nullable then differs, types must not.)
    assert [g[:2] for g in got] == [w[:2] for w in want], got
    dataset.delete()
    return steps


def start_profilers(server: ServerProcess, out: Path) -> list[subprocess.Popen[bytes]]:
    """py-spy on the server process and its worker processes (job children included)."""
    assert server.process is not None
    py_spy = Path(sys.executable).parent / "py-spy"
    found = subprocess.run(
        ["pgrep", "-g", str(server.process.pid)], capture_output=True, text=True, check=False
    )
    out.mkdir(parents=True, exist_ok=True)
    spies = []
    for pid in found.stdout.split():
        command = [str(py_spy), "record", "--subprocesses", "-r", "200", "-f", "raw"]
        command += ["-o", str(out / f"{pid}.txt"), "--pid", pid]
        spies.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
    time.sleep(1.0)
    return spies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", type=Path, default=None, help="py-spy raw stacks to DIR")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-dataset-e2e-") as tmp:
        path = Path(tmp) / "bench.csv"
        generate(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows x {len(SCHEMA)} columns, {size_mb:.0f} MB")
        server = ServerProcess(Path(tmp) / "server", workers=2)
        server.start()
        spies: list[subprocess.Popen[bytes]] = []
        try:
            admin = server.admin()
            with ModeratelyAI(
                api_key=admin.api_key, team_id=admin.team_id, base_url=admin.base_url, timeout=300
            ) as client:
                end_to_end(client, path, args.rows)  # warm-up: forkserver, imports, caches
                if args.profile:
                    spies = start_profilers(server, args.profile)
                runs = []
                references: dict[str, list[float]] = {"full": [], "count": [], "fetchall": []}
                for _ in range(args.repeats):
                    references["full"].append(timed(lambda: duck_full(path))[0])
                    references["count"].append(timed(lambda: duck_count(path))[0])
                    runs.append(end_to_end(client, path, args.rows))
                references["fetchall"].append(timed(lambda: duck_fetchall(path))[0])
        finally:
            for spy in spies:
                spy.send_signal(signal.SIGINT)
            for spy in spies:
                spy.wait(60)
            server.stop()

    best_ref = min(references["full"])
    print()
    print(f"{'reference (same run)':<48} {'best s':>8} {'median s':>9}")
    for name, label in (
        ("full", "duckdb read_csv, count(*) + max(every column)"),
        ("count", "duckdb read_csv, count(*)"),
        ("fetchall", "duckdb read_csv(path).fetchall()"),
    ):
        values = references[name]
        print(f"{label:<48} {min(values):>8.2f} {statistics.median(values):>9.2f}")
    print()
    print(f"{'through the server (SDK)':<48} {'best s':>8} {'median s':>9}")
    for step in runs[0]:
        values = [run[step] for run in runs]
        print(f"{step:<48} {min(values):>8.2f} {statistics.median(values):>9.2f}")
    totals = [run["total"] for run in runs]
    print()
    print(
        f"end to end vs duckdb (count + max of every column): best {min(totals) / best_ref:.1f}x, "
        f"median {statistics.median(totals) / statistics.median(references['full']):.1f}x "
        f"(goal <= 2x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
