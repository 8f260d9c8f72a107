"""wrk, the HTTP load generator the server benchmarks use: found (or installed), run, parsed.

A Python load client on the same two cores is itself the bottleneck and hides the server's
cost; wrk is C and costs the server little. Debian package `wrk`: `ensure_wrk` installs it with
apt-get when it is missing and this process may (root, apt-get present), and says why not when
it can't.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def ensure_wrk() -> bool:
    """True when `wrk` is on PATH, installing it first if that is possible here."""
    if shutil.which("wrk"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr, flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
            subprocess.run(command, env=env, capture_output=True, check=False, timeout=600)
        if shutil.which("wrk"):
            return True
    print(
        "this benchmark needs wrk, which is not installed and could not be installed here "
        "(needs root and apt-get). On Debian: apt-get update && apt-get install -y wrk",
        file=sys.stderr,
    )
    return False


@dataclass(frozen=True)
class WrkResult:
    label: str
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: str  # wrk's socket errors and non-2xx count, "" when none


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(label: str, output: str) -> WrkResult:
    """The figures of `wrk --latency` output."""
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+(?:us|ms|s|m))\s*$", output, re.M))
    latency = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if "50" not in percentiles or "99" not in percentiles or not total or not rate:
        raise SystemExit(f"could not parse wrk's output:\n{output}")
    errors = [
        line.strip()
        for line in output.splitlines()
        if line.strip().startswith(("Socket errors", "Non-2xx"))
    ]
    return WrkResult(
        label=label,
        requests=int(total.group(1)),
        per_second=float(rate.group(1)),
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        max_ms=_ms(latency.group(1)) if latency else float("nan"),
        errors="; ".join(errors),
    )


def run_wrk(
    label: str, url: str, token: str | None, *, duration: int, connections: int
) -> WrkResult:
    # --timeout: a reply slower than wrk's default 2 s would count only as a socket error, not
    # in the latency figures; a server that stalls must show in them.
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if token:
        command += ["-H", f"authorization: Bearer {token}"]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=duration + 60, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(label, done.stdout)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), for CPU per request: unlike a rate,
    it does not move when other work shares the cores."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
