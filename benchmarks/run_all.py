"""Run every benchmark in this folder, one after another, each in its own process, then print
the lines in which they state a goal (issue 12's table) together, as a scoreboard.

Every `*.py` here but this one and the `_` helpers is a benchmark: a new script is listed by
being added to the folder. The server benchmarks need `wrk` (Debian package), which `_wrk.py`
installs with apt-get when it is missing and it may; a script that cannot run exits non-zero
and counts as a failure here. embeddings.py installs its sentence-transformers reference into a
venv of its own (torch 2.13.0, CPU) and reports the static model alone when that cannot be
installed. agent_steps.py starts `moderately serve` twice (as configured by default and with
the AI layer preloaded) and a server without workers; `--skip-server` keeps it in process.
pipeline_engine.py runs Prefect 3 in a venv of its own (`--skip-prefect` leaves it out).

    python benchmarks/run_all.py [NAME ...]    (names without .py: run only those)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script: Path, goals: list[str]) -> int:
    """Run `script`, echoing its output, and keep its lines that name a goal."""
    print(f"\n=== {script.name} ===", flush=True)
    process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        if "goal" in line:
            goals.append(f"{script.stem}: {line.strip()}")
    return process.wait()


def main() -> int:
    wanted = set(sys.argv[1:])
    goals: list[str] = []
    failed = []
    for script in sorted(HERE.glob("*.py")):
        if script.name == "run_all.py" or script.name.startswith("_"):
            continue
        if wanted and script.stem not in wanted:
            continue
        if run(script, goals) != 0:
            failed.append(script.name)
    print("\n=== goals, as each benchmark stated them ===")
    for line in goals:
        print(line)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
