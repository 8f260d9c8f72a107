"""Agent step overhead: what a step costs besides the provider's own latency (issue 9).

An agent takes N actions (a `GetDateTool` call each), then answers with `final_answer`; its
planning (a fact call and a plan call) comes every `--planning-interval` actions. The provider is
the tests' loopback server (platform/tests/llm_server.py, OpenAI protocol) in this process: it
answers at once, so nearly all of a run's time is ours or the client's.

* Reference: every request the run sent, sent again with the raw `openai` client
  (`chat.completions.create(**request)`, same replies: the tool calls, then the final answer),
  right after the run, in the same process. Its total is what the provider calls cost the run;
  its mean is one raw call.
* In process: `run_agent` with the tests' in-memory host (platform/tests/agent_helpers.py).
  Overhead per step = (run time - reference total) / steps, where a step is one turn of the
  loop (the N tool calls and the final answer: N + 1).
* Through the server: `moderately serve --workers 1` as a subprocess (SQLite, local store), its
  job processes pointed at the loopback provider (`MODERATELY_OPENAI_BASE_URL` ...); the execution
  is created over HTTP and polled every 20 ms from the moment the provider served the final
  answer (GETs during the loop would take the API's CPU from the niced job process). The span is
  cut by the server's own timestamps: queued (createdAt -> startedAt: the worker's claim, the
  job's process), job start (startedAt -> the first step: loading the execution, importing the
  runtime and the AI layer, the host), the loop (first step -> last step; every step writes a
  memory-state version), finish (last step -> completedAt) and polling (completedAt -> seen). The
  loop's overhead per step is computed as in process, from the requests the job sent. The server
  runs twice: as configured by default, and with the modules a job imports after its fork
  preloaded in the forkserver (`MODERATELY_JOB_MODULES`, see PRELOAD).

Both ratios are the overhead per step over one raw call to the same loopback provider; a real
provider call takes hundreds of milliseconds to seconds, so read them as an upper bound.

    python benchmarks/agent_steps.py [--actions 5,20,50] [--repeats 5] [--skip-server]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import openai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "platform" / "tests"))

from adversarial_helpers import ServerProcess, ok  # noqa: E402  (modules of the platform's tests)
from agent_helpers import MemoryAgentHost, request_kind, spec_for  # noqa: E402
from agents_helpers import version_body  # noqa: E402
from llm_server import LLMServer, Reply, llm_env, llm_settings, text_reply, tool_reply  # noqa: E402
from moderately.agents.runtime import run_agent  # noqa: E402
from moderately.ai import ai_services  # noqa: E402
from moderately.config import Settings  # noqa: E402
from moderately.db.session import Database  # noqa: E402
from moderately.jobs.agent_host import DbAgentHost  # noqa: E402
from moderately.jobs.pipeline_context import RunSignals  # noqa: E402
from moderately.services.lifecycle import AGENT_EXECUTIONS, PENDING, RUNNING  # noqa: E402
from moderately.testing import run_server  # noqa: E402

OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
}
QUESTION = {"question": "What is the date?"}
RUN_LIMIT = 300.0  # seconds: a hang guard, never a measured figure
POLL_SECONDS = 0.02
# What a job process of an agent execution imports after the fork: the AI layer (the anthropic
# and openai SDKs), the agent runtime (smolagents), and the worker's __main__ (moderately.cli,
# which multiprocessing runs again in every child; it imports alembic through db.migrate).
PRELOAD = (
    "moderately.ai.chat",
    "moderately.ai.openai_compat",
    "moderately.agents.runtime",
    "moderately.db.migrate",
)
# The servers measured: as configured by default, and with PRELOAD in the forkserver
# (MODERATELY_JOB_MODULES), so job processes start with it imported.
SERVERS: dict[str, dict[str, str]] = {
    "default": {},
    "preloaded": {"MODERATELY_JOB_MODULES": ",".join(PRELOAD)},
}
# ServerRun's phases in the order of the server table (the loop goes between start and finish)
PHASES = ("total", "queued", "job_start", "finish", "polling")


class Steps:
    """The provider's side of one run: `actions` GetDateTool calls, then the final answer;
    plain text for the fact and plan calls. Sent again in the same order, it answers alike."""

    def __init__(self, actions: int) -> None:
        self.actions = actions
        self.thoughts = 0
        self.answered = threading.Event()  # the final answer was served

    def __call__(self, protocol: str, body: dict[str, Any]) -> Reply:
        kind = request_kind(body)
        if kind != "thought":
            return text_reply(f"{kind} text")
        self.thoughts += 1
        if self.thoughts > self.actions:
            self.answered.set()
            return tool_reply(("final_answer", {"answer": {"answer": "done"}}), text="Done.")
        return tool_reply(("GetDateTool", {}), text="Checking the date.")


def start_run(provider: LLMServer, actions: int) -> Steps:
    provider.reset()
    steps = Steps(actions)
    provider.handler = steps
    return steps


def replay(provider: LLMServer, actions: int, requests: list[dict[str, Any]]) -> float:
    """Seconds the raw openai client takes for `requests`, answered as in the run."""
    start_run(provider, actions)
    client = openai.OpenAI(base_url=provider.openai_base_url, api_key="test", max_retries=0)
    with client:
        client.chat.completions.create(**requests[0])  # the connection, as the run had it
        start_run(provider, actions)
        started = time.perf_counter()
        for request in requests:
            client.chat.completions.create(**request)
        return time.perf_counter() - started


def recorded(provider: LLMServer) -> list[dict[str, Any]]:
    return [request.body for request in provider.requests]


@dataclass(frozen=True)
class Measured:
    """One run and its reference."""

    seconds: float  # the run (in process) or its loop (through the server)
    reference: float  # the same requests through the raw client
    calls: int
    versions: int  # memory-state versions written
    state_bytes: int  # their JSON, summed (every version holds every step so far); 0: not known
    kinds: str  # provider calls by kind
    states: tuple[dict[str, Any], ...] = field(default=(), repr=False)  # in process: as recorded

    def overhead_per_step(self, steps: int) -> float:
        return (self.seconds - self.reference) / steps


def call_kinds(requests: list[dict[str, Any]]) -> str:
    counts = Counter(request_kind(body) for body in requests)
    return ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))


# -- in process ------------------------------------------------------------------------------


async def one_in_process(provider: LLMServer, actions: int, interval: int) -> Measured:
    start_run(provider, actions)
    host = MemoryAgentHost()
    spec = spec_for(
        host,
        "GetDateTool",
        output_schema=OUTPUT_SCHEMA,
        agent_input=QUESTION,
        max_actions=actions + 1,
        planning_interval=interval,
        timeout_seconds=RUN_LIMIT,
    )
    ai = ai_services(Settings(**llm_settings(provider), llm_retry_base_seconds=0.0))
    started = time.perf_counter()
    outcome = await asyncio.wait_for(run_agent(spec, host, ai), RUN_LIMIT)
    seconds = time.perf_counter() - started
    if outcome.status != "completed" or host.states[-1]["action_count"] != actions:
        raise SystemExit(f"the in-process run did not end as scripted: {outcome}")
    requests = recorded(provider)
    reference = replay(provider, actions, requests)
    states = tuple(host.states)
    written = sum(len(json.dumps(state)) for state in states)
    kinds = call_kinds(requests)
    return Measured(seconds, reference, len(requests), len(states), written, kinds, states)


def in_process(provider: LLMServer, actions: int, interval: int, repeats: int) -> list[Measured]:
    async def runs() -> list[Measured]:
        await one_in_process(provider, actions, interval)  # warm-up: imports, first connection
        return [await one_in_process(provider, actions, interval) for _ in range(repeats)]

    return asyncio.run(runs())


# -- through the server ----------------------------------------------------------------------


@dataclass(frozen=True)
class ServerRun:
    measured: Measured  # seconds: the loop, first step start to last step end
    total: float  # create request sent -> completed seen by the client
    queued: float  # createdAt -> startedAt
    job_start: float  # startedAt -> the first step
    finish: float  # the last step's end -> completedAt
    polling: float  # completedAt -> the client saw it (incl. that GET)


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def one_through_server(
    client: httpx.Client, provider: LLMServer, agent_id: str, actions: int
) -> ServerRun:
    start_run(provider, actions)
    sent = time.time()
    created = ok(
        client.post("/agent-executions", json={"agent_id": agent_id, "input_data": QUESTION}), 201
    )
    path = f"/agent-executions/{created['agentExecutionId']}"
    deadline = time.monotonic() + RUN_LIMIT
    while True:
        record = ok(client.get(path))
        if record["status"] not in ("pending", "running"):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"the execution did not finish in {RUN_LIMIT:g} s: {record}")
        time.sleep(POLL_SECONDS)
    seen = time.time()
    if record["status"] != "completed":
        raise SystemExit(f"the execution ended {record['status']}: {record}")
    tail = ok(client.get(f"{path}/live-tail"))
    steps = tail["steps"]
    requests = recorded(provider)
    loop_start, loop_end = stamp(steps[0]["startedAt"]), stamp(steps[-1]["endedAt"])
    reference = replay(provider, actions, requests)
    measured = Measured(
        loop_end - loop_start,
        reference,
        len(requests),
        tail["totalVersions"],
        0,
        call_kinds(requests),
    )
    return ServerRun(
        measured=measured,
        total=seen - sent,
        queued=stamp(record["startedAt"]) - stamp(record["createdAt"]),
        job_start=loop_start - stamp(record["startedAt"]),
        finish=stamp(record["completedAt"]) - loop_end,
        polling=seen - stamp(record["completedAt"]),
    )


def make_agent(client: httpx.Client, actions: int, interval: int) -> str:
    agent_id = str(ok(client.post("/agents", json={"name": f"steps {actions}"}), 201)["agentId"])
    body = version_body(
        agent_id,
        2,
        isCurrent=True,
        outputSchema=OUTPUT_SCHEMA,
        toolConfig=[{"type": "GetDateTool"}],
        executionConfig={
            "max_actions": actions + 1,
            "planning_interval": interval,
            "feedback_rounds": 0,
            "timeout_minutes": RUN_LIMIT / 60,
        },
    )
    ok(client.post("/agent-configuration-versions", json=body), 201)
    return agent_id


def through_server(
    provider: LLMServer, sizes: list[int], interval: int, repeats: int, env: dict[str, str]
) -> dict[int, list[ServerRun]]:
    with tempfile.TemporaryDirectory(prefix="moderately-agent-steps-") as tmp:
        server = ServerProcess(Path(tmp) / "data", workers=1, env={**llm_env(provider), **env})
        server.start()
        try:
            with server.admin().client(timeout=60) as client:
                results: dict[int, list[ServerRun]] = {}
                for actions in sizes:
                    agent_id = make_agent(client, actions, interval)
                    one_through_server(client, provider, agent_id, actions)  # warm-up
                    results[actions] = [
                        one_through_server(client, provider, agent_id, actions)
                        for _ in range(repeats)
                    ]
                return results
        finally:
            server.stop()


# -- memory-state writes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Writes:
    """`DbAgentHost.record` of one in-process run's states, one after another, on SQLite."""

    versions: int
    kilobytes: float
    seconds: list[float]  # each write


def thought_of(state: dict[str, Any]) -> str | None:
    """The thought a recorded state came with (its last step, when that is a thought)."""
    last = state["steps"][-1] if state.get("steps") else {}
    return str(last["thought"]) if last.get("stepType") == "thought" else None


async def record_states(settings: Settings, execution_id: str, team_id: str, states: Any) -> Writes:
    database = Database(settings)
    runner = "agent-steps-benchmark"
    try:
        async with database.session() as session:
            claimed = await AGENT_EXECUTIONS.transition(
                session, execution_id, RUNNING, expected=(PENDING,), values={"runner_id": runner}
            )
        if claimed is None:
            raise SystemExit(f"execution {execution_id} could not be claimed")
        with tempfile.TemporaryDirectory() as scratch:
            host = DbAgentHost(
                database,
                None,  # type: ignore[arg-type]  # the store: record() never touches it
                execution_id=execution_id,
                team_id=team_id,
                runner_id=runner,
                scratch=Path(scratch),
                signals=RunSignals(),
                max_file_bytes=1,
            )
            seconds = []
            for state in states:
                started = time.perf_counter()
                await host.record(
                    state, thought=thought_of(state), current_step=state["action_count"]
                )
                seconds.append(time.perf_counter() - started)
            if host.signals.cancel:
                raise SystemExit("the host refused the writes (the execution is not running)")
    finally:
        await database.dispose()
    kilobytes = sum(len(json.dumps(state)) for state in states) / 1024
    return Writes(len(seconds), kilobytes, seconds)


def memory_writes(inproc: dict[int, list[Measured]], interval: int) -> dict[int, Writes]:
    """Each size's recorded states written by the server's host into a real (migrated) SQLite
    database; the executions are created through the API of a server with no workers."""
    results = {}
    with (
        tempfile.TemporaryDirectory(prefix="moderately-agent-writes-") as tmp,
        run_server(data_dir=Path(tmp), workers=0) as server,
    ):
        admin = server.admin
        headers = {"Authorization": f"Bearer {admin.api_key}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
            for actions, runs in inproc.items():
                agent_id = make_agent(client, actions, interval)
                body = {"agent_id": agent_id, "input_data": QUESTION}
                execution = ok(client.post("/agent-executions", json=body), 201)
                results[actions] = asyncio.run(
                    record_states(
                        server.settings,
                        execution["agentExecutionId"],
                        admin.team_id,
                        runs[-1].states,
                    )
                )
    return results


# -- report ----------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for line in [header, ["-" * width for width in widths], *rows]:
        print(" | ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))


def overhead_cells(runs: list[Measured], steps: int) -> list[str]:
    """Overhead per step, one raw call, and their ratio (medians over the runs)."""
    per_step = median([run.overhead_per_step(steps) for run in runs])
    raw_call = median([run.reference / run.calls for run in runs])
    return [ms(per_step), ms(raw_call), f"{per_step / raw_call:.2f}x"]


def report_in_process(results: dict[int, list[Measured]]) -> None:
    header = ["N", "steps", "provider calls", "versions", "state KB", "run ms", "reference ms"]
    header += ["overhead/step ms", "raw call ms", "overhead/raw call", "steps/s"]
    rows = []
    for actions, runs in results.items():
        steps = actions + 1
        run = median([r.seconds for r in runs])
        reference = median([r.reference for r in runs])
        first = runs[0]
        counts = [str(actions), str(steps), str(first.calls), str(first.versions)]
        counts.append(f"{first.state_bytes / 1024:,.0f}")
        rate = f"{steps / run:,.0f}"
        rows.append([*counts, ms(run), ms(reference), *overhead_cells(runs, steps), rate])
    table(header, rows)
    for actions, runs in results.items():
        print(f"  N={actions}: provider calls {runs[0].kinds}")


def report_server(
    served: dict[str, dict[int, list[ServerRun]]], inproc: dict[int, list[Measured]]
) -> None:
    header = ["server", "N", "create->seen ms", "queued", "job start", "loop", "finish", "polling"]
    header += ["overhead/step ms", "raw call ms", "overhead/raw call", "per version vs in-proc"]
    rows = []
    for variant, results in served.items():
        rows += [[variant, *cells] for cells in server_rows(results, inproc)]
    table(header, rows)


def server_rows(
    results: dict[int, list[ServerRun]], inproc: dict[int, list[Measured]]
) -> list[list[str]]:
    rows = []
    for actions, runs in results.items():
        steps = actions + 1
        loops = [run.measured for run in runs]
        versions = loops[0].versions
        local = inproc.get(actions)
        extra = "-"
        if local:
            added = median([m.overhead_per_step(steps) for m in loops]) - median(
                [m.overhead_per_step(steps) for m in local]
            )
            extra = ms(added * steps / versions)
        phases = [median([getattr(run, phase) for run in runs]) for phase in PHASES]
        phases.insert(3, median([m.seconds for m in loops]))  # the loop, between start and finish
        rows.append([str(actions), *map(ms, phases), *overhead_cells(loops, steps), extra])
    return rows


def report_writes(writes: dict[int, Writes], inproc: dict[int, list[Measured]]) -> None:
    header = ["N", "versions", "state KB", "write ms (mean)", "first 10", "last 10", "per run ms"]
    header.append("mean write/raw call")
    rows = []
    for actions, found in writes.items():
        raw_call = median([run.reference / run.calls for run in inproc[actions]])
        mean = statistics.mean(found.seconds)
        rows.append(
            [str(actions), str(found.versions), f"{found.kilobytes:,.0f}", ms(mean)]
            + [ms(statistics.mean(part)) for part in (found.seconds[:10], found.seconds[-10:])]
            + [ms(sum(found.seconds)), f"{mean / raw_call:.2f}x"]
        )
    table(header, rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actions", default="5,20,50", help="tool-call actions per run (N)")
    parser.add_argument("--planning-interval", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args()
    sizes = [int(part) for part in args.actions.split(",") if part.strip()]
    if not sizes or min(sizes) < 1 or max(sizes) > 99:
        raise SystemExit("--actions: 1 to 99 each (max_actions is at most 100)")

    provider = LLMServer()
    try:
        inproc = {n: in_process(provider, n, args.planning_interval, args.repeats) for n in sizes}
        writes = {} if args.skip_server else memory_writes(inproc, args.planning_interval)
        served = {}
        for variant, env in ({} if args.skip_server else SERVERS).items():
            served[variant] = through_server(
                provider, sizes, args.planning_interval, args.repeats, env
            )
    finally:
        provider.close()

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"\nN GetDateTool actions then final_answer, planning every {args.planning_interval}; "
        f"median of {args.repeats}; {os.cpu_count()} cores, load average {load}"
    )
    print("\nIn process (run_agent, in-memory host):")
    report_in_process(inproc)
    if writes:
        print("\nMemory-state writes: DbAgentHost.record of the in-process run's states (SQLite):")
        report_writes(writes, inproc)
    if served:
        print("\nThrough moderately serve --workers 1 (SQLite), ms:")
        report_server(served, inproc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
