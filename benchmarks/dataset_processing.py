"""Dataset processing throughput: count_rows + validate on 1,000,000 rows x 10 columns, and
schema inference on a ~100 MB file, against a plain DuckDB ``read_csv`` of the same file.

The CSV is generated once per run in a temporary directory (mixed types: int, float, bool, date,
datetime, leading-zero codes, strings with quoted commas, a few quoted newlines, some blanks).
Bounded: about a minute on 2 cores.

    python benchmarks/dataset_processing.py [--rows N] [--repeats R] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from moderately.tabular import Column, count_rows, infer, validate

SCHEMA = [
    Column("id", "integer", nullable=False),
    Column("code", "string", nullable=False),
    Column("amount", "float"),
    Column("active", "boolean", nullable=False),
    Column("day", "date"),
    Column("created_at", "datetime"),
    Column("customer", "string"),
    Column("quantity", "integer"),
    Column("category", "string"),
    Column("note", "string"),
]
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(7)
    start = date(2020, 1, 1)
    stamp = datetime(2024, 1, 1, 8, 30)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([c.name for c in SCHEMA])
        for i in range(1, rows + 1):
            note = " ".join(rng.choices(WORDS, k=5))
            if i % 50_000 == 0:
                note += "\nsecond line"  # a few quoted newlines
            writer.writerow(
                [
                    i,
                    f"{rng.randrange(100000):05d}",
                    f"{rng.uniform(-1000, 1000):.4f}",
                    "true" if rng.random() < 0.5 else "false",
                    (start + timedelta(days=i % 2000)).isoformat(),
                    (stamp + timedelta(seconds=i * 37)).isoformat() + "Z",
                    f"{rng.choice(WORDS).title()}, {rng.choice(WORDS).title()}",  # quoted comma
                    "" if i % 97 == 0 else rng.randrange(1, 500),
                    rng.choice(WORDS),
                    note,
                ]
            )


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best = float("inf")
    result: Any = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="write the CSV here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-dataset-") as tmp:
        path = (args.keep or Path(tmp)) / "bench.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        generate(path, args.rows)
        gen = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6
        print(
            f"generated {args.rows:,} rows x {len(SCHEMA)} columns, {size_mb:.0f} MB in {gen:.1f} s"
        )

        def plain_count() -> int:
            con = duckdb.connect()
            try:
                return int(con.sql(f"SELECT count(*) FROM read_csv('{path}')").fetchall()[0][0])
            finally:
                con.close()

        def plain_full() -> int:
            con = duckdb.connect()
            cols = ", ".join(f'max("{c.name}")' for c in SCHEMA)
            try:
                rows = con.sql(f"SELECT count(*), {cols} FROM read_csv('{path}')").fetchall()
                return int(rows[0][0])
            finally:
                con.close()

        t_plain, n_plain = best_of(args.repeats, plain_count)
        t_full, _ = best_of(args.repeats, plain_full)
        t_count, n_count = best_of(args.repeats, lambda: count_rows(path))
        t_valid, report = best_of(args.repeats, lambda: validate(path, SCHEMA))
        t_infer, inferred = best_of(args.repeats, lambda: infer(path))
        t_infer_all, inferred_all = best_of(1, lambda: infer(path, sample_rows=None))

        assert n_plain == n_count == args.rows, (n_plain, n_count)
        assert report.ok and report.record_count == args.rows, report.summary()
        got = [(c.name, c.type, c.nullable) for c in inferred_all.columns]
        want = [(c.name, c.type, c.name == "quantity") for c in SCHEMA]  # only quantity has blanks
        assert got == want, got

        ours = t_count + t_valid
        rows = args.rows
        print()
        print(f"{'step':<44} {'seconds':>8} {'rows/s':>12} {'vs plain':>9}")
        print("-" * 76)
        table = [
            ("duckdb read_csv + count(*) (plain)", t_plain, rows),
            ("duckdb read_csv, every column read", t_full, rows),
            ("count_rows", t_count, rows),
            ("validate (10 typed columns)", t_valid, rows),
            ("count_rows + validate", ours, rows),
            (f"infer (sample {inferred.rows_sampled:,} rows, sniffed)", t_infer, None),
            (f"infer (whole file, {size_mb:.0f} MB)", t_infer_all, None),
        ]
        for name, secs, n in table:
            rate = f"{n / secs:,.0f}" if n else ""
            print(f"{name:<44} {secs:>8.2f} {rate:>12} {secs / t_plain:>8.1f}x")
        print()
        ratio = ours / t_plain
        print(f"count_rows + validate: {rows / ours:,.0f} rows/s, {ratio:.1f}x plain count(*)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
