"""Run every benchmark in this folder, one after another, each in its own process.

Every `*.py` here but this one is a benchmark: a new script is listed by being added to the
folder (sdk_overhead, server_throughput, file_transfer, dataset_processing, pipeline_engine,
api_latency, embeddings, agent_steps). api_latency.py needs `wrk` (Debian package); without it,
it exits 2 with a message and counts as a failure here. embeddings.py installs its
sentence-transformers reference into a venv of its own (torch 2.13.0, CPU) and reports the static
model alone when that cannot be installed. agent_steps.py starts `moderately serve` twice (as
configured by default and with the AI layer preloaded) and a server without workers;
`--skip-server` keeps it in process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failures = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name in {"run_all.py"} or script.name.startswith("_"):
            continue
        print(f"\n=== {script.name} ===", flush=True)
        failures += subprocess.run([sys.executable, str(script)]).returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
