"""Hostile tenants, from the outside: the real server (`moderately serve --workers 2`) in a
subprocess, on SQLite and on PostgreSQL, driven over HTTP only.

Team A (the bootstrap admin) is hostile; team B (made with `admin create-user`) is the victim.
For every case, while A's hostile job or request is in flight:

* a watchdog thread GETs one of A's agents every 50 ms on a persistent connection: every probe
  answers 200, p99 < 200 ms and max < 1 s (the API never freezes), over at least 100 probes
  (the watch goes on after the hostile thing ends until there are that many);
* B runs a small echo pipeline, which completes (a deadline on waiting, not a speed test);
* the hostile job fails with `error_type` and a message naming the budget it hit (or finishes
  correctly, where that is allowed), or the request is refused with a 4xx envelope naming the
  bound.

The server runs with MODERATELY_PIPELINE_TIMEOUT_SECONDS=8, so the wall-time case is short.
The CPU-heavy pipeline is one `transform` of many sorts over 20,000 objects
(adversarial_helpers.heavy_configuration): ~20 s of pure-Python CPU that touches no budget.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from adversarial_helpers import (
    TERMINAL,
    LatencyStats,
    LoopbackListener,
    ServerProcess,
    Tenant,
    Watchdog,
    create_version,
    heavy_configuration,
    heavy_input,
    ok,
    pdf_inflate_bomb,
    pdf_page_bomb,
    post_oversized,
    put_bytes,
    sha256,
    start_execution,
    timed,
    upload_file,
    wait_execution,
)
from api_helpers import POSTGRES_ADMIN_URL
from pipelines_helpers import echo_configuration, graph

from moderately.testing import create_postgres_database, drop_postgres_database

TIMEOUT_SECONDS = 8  # the server's pipeline wall-time budget in this module
P99_LIMIT_MS = 200.0
MAX_LIMIT_MS = 1000.0
MIN_PROBES = 100  # per case: fewer, and p99 is just the maximum
VICTIM_DEADLINE = 30.0  # seconds B's echo may take to complete (a deadline, not a target)
HOSTILE_DEADLINE = 60.0  # seconds a hostile job may take to reach a terminal status
QUIET_DEADLINE = 120.0  # seconds to wait for the previous case's jobs before the next case
REDOS = "(a+)+$"
REDOS_SUBJECT = "a" * 29 + "!"  # 30 characters: ~30 s of backtracking for Python's re
MiB = 1024 * 1024
BODY_LIMIT = 32 * MiB  # MODERATELY_MAX_REQUEST_BODY_BYTES' default


@dataclass
class Server:
    name: str
    process: ServerProcess
    a: Tenant  # hostile
    b: Tenant  # victim
    ca: httpx.Client
    cb: httpx.Client
    probe_path: str
    echo_a: str  # version ids of the echo pipeline of each team
    echo_b: str
    hostile: list[str] = field(default_factory=list)  # A's execution ids


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    database_url = None
    if request.param == "postgresql":
        database_url = create_postgres_database(POSTGRES_ADMIN_URL)
    data_dir = Path(tmp_path_factory.mktemp(f"adversarial-{request.param}"))
    process = ServerProcess(
        data_dir,
        database_url=database_url,
        workers=2,
        env={"MODERATELY_PIPELINE_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS)},
    )
    try:
        process.start()
        a = process.admin()
        b = process.create_user(f"victim-{request.param}@example.com", "victims")
        with a.client() as ca, b.client() as cb:
            agent = ok(ca.post("/agents", json={"name": "probe target"}), 201)
            yield Server(
                name=request.param,
                process=process,
                a=a,
                b=b,
                ca=ca,
                cb=cb,
                probe_path=f"/agents/{agent['agentId']}",
                echo_a=create_version(ca, "echo", echo_configuration()),
                echo_b=create_version(cb, "echo", echo_configuration()),
            )
    finally:
        process.stop()
        if database_url is not None:
            drop_postgres_database(database_url)
        if process.children_left_after_stop:
            print(f"[{request.param}] processes of the server's group outlived it (killed)")


# ---- the harness --------------------------------------------------------------------------


@dataclass
class Outcome:
    stats: LatencyStats
    victim: dict[str, Any]
    victim_seconds: float
    result: Any


def quiet(server: Server) -> None:
    """Before a case: the previous cases' jobs have ended and /health answers (bounded; a
    precondition that keeps cases apart, not an assertion)."""
    deadline = time.monotonic() + QUIET_DEADLINE
    for execution_id in server.hostile:
        left = max(0.1, deadline - time.monotonic())
        wait_execution(server.ca, execution_id, timeout=left, interval=0.2)
    server.hostile.clear()
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{server.process.base_url}/health", timeout=5).status_code == 200:
                return
        time.sleep(0.2)


def run_victim(server: Server, label: str) -> tuple[dict[str, Any], float]:
    """B's echo pipeline, created now; its record once terminal (or at the deadline)."""
    text = f"victim during {label}"
    started = time.monotonic()
    created = start_execution(server.cb, server.echo_b, {"user_input": text})
    assert created.status_code == 201, created.text
    execution_id = created.json()["pipelineExecutionId"]
    done = wait_execution(server.cb, execution_id, timeout=VICTIM_DEADLINE)
    return done, time.monotonic() - started


def hostile_case(
    server: Server,
    label: str,
    launch: Callable[[], Any],
    finish: Callable[[Any], Any] = lambda handle: handle,
) -> Outcome:
    """`launch()` starts the hostile thing and returns a handle (a job's execution id, or a
    future of a request); B's echo runs while it is in flight; `finish(handle)` waits for its
    outcome. All of it under the watchdog."""
    quiet(server)
    with Watchdog(server.process.base_url, server.a.api_key, server.probe_path) as dog:
        handle = launch()
        victim, victim_seconds = run_victim(server, label)
        result = finish(handle)
        dog.wait_for(MIN_PROBES)
        stats = dog.stop()
    print(
        f"\n[{server.name}] {label}: {stats}; victim {victim['status']} in {victim_seconds:.2f} s"
    )
    return Outcome(stats, victim, victim_seconds, result)


def assert_isolated(server: Server, outcome: Outcome) -> None:
    """The API kept answering fast, and B's echo completed."""
    stats = outcome.stats
    assert stats.count > 0 and stats.failures == 0, f"probes failed: {stats}"
    assert stats.p99_ms < P99_LIMIT_MS, f"API latency under attack: {stats}"
    assert stats.max_ms < MAX_LIMIT_MS, f"API latency under attack: {stats}"
    victim = outcome.victim
    assert victim["status"] == "completed", (
        f"B's echo was {victim['status']} after {outcome.victim_seconds:.1f} s: {victim}"
    )
    assert victim["pipelineOutput"]["echoed_message"].startswith("victim during")


_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="hostile")


def in_background(work: Callable[[], Any]) -> Callable[[], concurrent.futures.Future[Any]]:
    """A `launch` for a hostile request: send it from another thread, give it 0.3 s head start."""

    def launch() -> concurrent.futures.Future[Any]:
        future = _pool.submit(work)
        time.sleep(0.3)
        return future

    return launch


def wait_future(future: concurrent.futures.Future[Any], timeout: float = 120.0) -> Any:
    return future.result(timeout=timeout)


def job(server: Server, version_id: str, pipeline_input: Any) -> Callable[[], str]:
    """A `launch` for a hostile job: create A's execution, wait until it runs (or ends)."""

    def launch() -> str:
        created = start_execution(server.ca, version_id, pipeline_input)
        assert created.status_code == 201, created.text
        execution_id = str(created.json()["pipelineExecutionId"])
        server.hostile.append(execution_id)
        wait_execution(server.ca, execution_id, until=("running", *TERMINAL), timeout=15)
        return execution_id

    return launch


def job_result(server: Server, timeout: float = HOSTILE_DEADLINE) -> Callable[[str], Any]:
    return lambda execution_id: wait_execution(server.ca, execution_id, timeout=timeout)


def assert_budget_failure(
    server: Server, execution: dict[str, Any], error_types: tuple[str, ...], names: str
) -> None:
    """Failed, with `error_type` one of `error_types` and a message that matches `names`."""
    progress = execution.get("progressData") or {}
    summary = {k: progress.get(k) for k in ("status", "error_type", "error", "failed_block")}
    if execution["status"] != "failed":
        summary["processes"] = server.process.processes()
        summary["server log"] = server.process.log_tail(15)
    assert execution["status"] == "failed", (
        f"expected a failure, got {execution['status']}: {summary}"
    )
    assert progress.get("error_type") in error_types, summary
    message = str(progress.get("error") or "")
    assert re.search(names, message), f"the message does not name the budget: {summary}"


def assert_refused(response: httpx.Response, status: int, names: str | None = None) -> dict:
    """A 4xx error envelope (docs/reference/api.md) whose message matches `names`."""
    assert response.status_code == status, f"{response.status_code}: {response.text[:2000]}"
    body = response.json()
    assert body["error"]["message"] and body["code"] == body["error"]["code"], body
    if names is not None:
        assert re.search(names, body["error"]["message"] + str(body.get("details", ""))), body
    return body


# ---- oversized bodies ---------------------------------------------------------------------


def test_oversized_body_is_refused_while_streaming(server: Server) -> None:
    """100 MiB of JSON, no token: once with its Content-Length, once chunked (no length)."""
    total = 100 * MiB

    def send_both() -> dict[str, Any]:
        return {
            framing: post_oversized(
                server.process.base_url, "/pipelines", total, chunked=framing == "chunked"
            )
            for framing in ("content-length", "chunked")
        }

    outcome = hostile_case(server, "100 MiB bodies", in_background(send_both), wait_future)
    for framing, result in outcome.result.items():
        print(f"  {framing}: {result.status} after {result.sent / MiB:.1f} MiB sent")
        assert result.status == 413, (
            f"{framing}: {result.status} {result.body[:500]!r} {result.error}"
        )
        body = httpx.Response(413, content=result.body).json()
        assert body["code"] == body["error"]["code"] == "PAYLOAD_TOO_LARGE", body
        assert re.search(r"\d", body["error"]["message"]), body  # names the limit
        # Refused while streaming: the server stopped well before the end (kernel buffers and
        # the first reads may hold a few MiB past the limit).
        assert result.sent <= BODY_LIMIT + 16 * MiB, f"{framing}: {result.sent / MiB:.1f} MiB"
    assert_isolated(server, outcome)


# ---- dataset parsing bounds ---------------------------------------------------------------


def test_infer_refuses_header_row_and_skip_rows_bombs(server: Server) -> None:
    csv = b"id,name\n1,Ada\n2,Grace\n"
    file_id = upload_file(server.ca, csv, "small.csv", "text/csv")

    def infer(options: dict[str, Any]) -> Callable[[], httpx.Response]:
        body = {"fileId": file_id, "parsingOptions": options}
        return lambda: server.ca.post("/dataset-schema-versions/infer", json=body)

    def both() -> tuple[httpx.Response, httpx.Response]:
        return infer({"headerRow": 40_000_000})(), infer({"skipRows": 40_000_000})()

    outcome = hostile_case(
        server, "infer headerRow/skipRows 40000000", in_background(both), wait_future
    )
    header, skip = outcome.result
    assert_refused(header, 400, r"(?i)header.?row")
    assert_refused(skip, 400, r"(?i)skip.?rows")
    assert_isolated(server, outcome)


def test_duplicate_header_csv_completes_fast(server: Server) -> None:
    columns = 8000
    csv = (",".join(["a"] * columns) + "\n" + ",".join(["1"] * columns) + "\n") * 1
    csv += (",".join(["2"] * columns) + "\n") * 3
    data = csv.encode()
    dataset = ok(server.ca.post("/datasets", json={"name": "duplicate headers"}), 201)
    ticket = ok(
        server.ca.post(
            "/dataset-data-versions",
            json={"datasetId": dataset["datasetId"], "fileName": "dup.csv", "fileType": "csv",
                  "status": "current"},
        ),
        201,
    )  # fmt: skip
    put_bytes(ticket["uploadUrl"], data, {"Content-Type": "text/csv"})
    version_id = ticket["dataVersion"]["datasetDataVersionId"]

    def complete_and_infer() -> tuple[httpx.Response, float, httpx.Response, float]:
        with timed() as took_complete:
            completed = server.ca.post(
                f"/dataset-data-versions/{version_id}/complete",
                json={"fileHash": sha256(data), "fileSizeBytes": len(data)},
            )
        with timed() as took_infer:
            inferred = server.ca.post(
                "/dataset-schema-versions/infer",
                json={"datasetDataVersionId": version_id},
                timeout=120,
            )
        return completed, took_complete[0], inferred, took_infer[0]

    outcome = hostile_case(
        server, "8,000 duplicate headers", in_background(complete_and_infer), wait_future
    )
    completed, complete_seconds, inferred, infer_seconds = outcome.result
    print(
        f"  complete {completed.status_code} in {complete_seconds:.2f} s, "
        f"infer {inferred.status_code} in {infer_seconds:.2f} s: {inferred.text[:200]}"
    )
    assert completed.status_code in (200, 400), completed.text[:1000]
    assert inferred.status_code in (200, 400), inferred.text[:1000]
    # De-duplicating the header is linear now (it was quadratic): a generous bound on it.
    assert complete_seconds < 5
    assert_isolated(server, outcome)


# ---- JSON Schema: remote references and patterns ------------------------------------------


def _ref_configuration(ref: str) -> dict[str, Any]:
    return graph(
        {
            "in": ("input", {"json_schema": {"$ref": ref}}),
            "out": ("output", {"name": "out"}),
        },
        [("in", "data", "out", "data")],
    )


def _try_ref(server: Server, ref: str, value: Any) -> list[httpx.Response]:
    """Validate, create a version and (if that was accepted) execute a pipeline whose input
    schema is `{"$ref": ref}`; every response, in order."""
    configuration = _ref_configuration(ref)
    responses = [
        server.ca.post(
            "/pipeline-configuration-versions/validate", json={"configuration": configuration}
        )
    ]
    pipeline = ok(server.ca.post("/pipelines", json={"name": f"ref {time.monotonic_ns()}"}), 201)
    created = server.ca.post(
        "/pipeline-configuration-versions",
        json={"pipelineId": pipeline["pipelineId"], "configuration": configuration},
    )
    responses.append(created)
    if created.status_code == 201:
        version_id = created.json()["pipelineConfigurationVersionId"]
        execution = start_execution(server.ca, version_id, {"in": value})
        responses.append(execution)
        if execution.status_code == 201:
            execution_id = execution.json()["pipelineExecutionId"]
            server.hostile.append(execution_id)
            done = wait_execution(server.ca, execution_id, timeout=20)
            responses.append(httpx.Response(200, json=done))
    return responses


def _refusal(responses: list[httpx.Response]) -> httpx.Response:
    """The version create (or, if that was accepted, the execution create) response."""
    return responses[2] if responses[1].status_code == 201 and len(responses) > 2 else responses[1]


def test_http_and_file_refs_are_refused_and_reach_nothing(server: Server, tmp_path: Path) -> None:
    """`$ref` to a loopback listener (no connection may reach it) and to a local file holding
    a secret (which no response may show), in one watch."""
    secret = f"s3cr3t-{time.monotonic_ns()}"
    schema = tmp_path / "secret.json"
    schema.write_text(json.dumps({"type": "string", "enum": [secret]}))
    with LoopbackListener() as listener:
        http_ref = f"http://127.0.0.1:{listener.port}/x.json"

        def both() -> dict[str, list[httpx.Response]]:
            return {
                "http": _try_ref(server, http_ref, "x"),
                "file": _try_ref(server, schema.as_uri(), "nope"),
            }

        outcome = hostile_case(
            server, "$ref over http and file://", in_background(both), wait_future
        )
        time.sleep(0.2)
        connections = listener.connections
    for kind, responses in outcome.result.items():
        print(f"  {kind}: statuses {[r.status_code for r in responses]}")
    print(f"  listener connections {connections}")
    assert connections == 0, f"the server fetched the remote $ref ({connections} connections)"
    leaked = [
        (k, r.status_code) for k, rs in outcome.result.items() for r in rs if secret in r.text
    ]
    assert not leaked, f"the secret came back in responses {leaked}"
    assert_refused(_refusal(outcome.result["http"]), 400, r"(?i)\$?ref")
    assert_refused(_refusal(outcome.result["file"]), 400, r"(?i)\$?ref")
    assert_isolated(server, outcome)


def test_redos_pattern_in_input_schema(server: Server) -> None:
    configuration = graph(
        {
            "in": ("input", {"json_schema": {"type": "string", "pattern": REDOS}}),
            "out": ("output", {"name": "out"}),
        },
        [("in", "data", "out", "data")],
    )
    pipeline = ok(server.ca.post("/pipelines", json={"name": "redos pattern"}), 201)
    created = server.ca.post(
        "/pipeline-configuration-versions",
        json={"pipelineId": pipeline["pipelineId"], "configuration": configuration},
    )
    if created.status_code != 201:  # refused at version create: fine, if it says why
        assert_refused(created, 400, r"(?i)pattern|regex|regular")
        return
    version_id = created.json()["pipelineConfigurationVersionId"]

    def execute() -> tuple[httpx.Response, float]:
        with timed() as took:
            response = start_execution(server.ca, version_id, {"in": REDOS_SUBJECT})
        return response, took[0]

    outcome = hostile_case(server, "ReDoS JSON Schema pattern", in_background(execute), wait_future)
    response, seconds = outcome.result
    print(f"  execution create {response.status_code} in {seconds:.2f} s")
    # The subject does not match: the input is invalid (400), found in linear time.
    assert_refused(response, 400, r"(?i)match|pattern")
    assert response.json()["code"] == "invalid_pipeline_input"
    assert_isolated(server, outcome)


def test_redos_regex_in_transform_filter(server: Server) -> None:
    configuration = graph(
        {
            "in": ("input", {"json_schema": {"type": "array", "items": {"type": "string"}}}),
            "match": (
                "transform",
                {"operations": [{"type": "filter", "operator": "regex", "value": REDOS}]},
            ),
            "out": ("output", {"name": "matched"}),
        },
        [("in", "data", "match", "data"), ("match", "data", "out", "data")],
    )
    pipeline = ok(server.ca.post("/pipelines", json={"name": "redos filter"}), 201)
    created = server.ca.post(
        "/pipeline-configuration-versions",
        json={"pipelineId": pipeline["pipelineId"], "configuration": configuration},
    )
    if created.status_code != 201:  # refused: fine, if it says why
        assert_refused(created, 400, r"(?i)regex|regular|pattern")
        return
    version_id = created.json()["pipelineConfigurationVersionId"]
    subjects = [REDOS_SUBJECT, "aaaa", "b"]
    outcome = hostile_case(
        server,
        "ReDoS transform filter",
        job(server, version_id, {"in": subjects}),
        job_result(server),
    )
    done = outcome.result
    assert done["status"] == "completed", (done["status"], done.get("progressData"))
    assert done["pipelineOutput"] == {"matched": ["aaaa"]}
    assert_isolated(server, outcome)


# ---- engine budgets -----------------------------------------------------------------------


def test_template_doubling_hits_the_template_budget(server: Server) -> None:
    blocks: dict[str, tuple[str, dict[str, Any]]] = {
        "in": ("input", {"json_schema": {"type": "string"}})
    }
    edges = []
    previous = "in"
    for n in range(1, 26):
        blocks[f"t{n}"] = (
            "string_template",
            {"template": "{{data}}{{data}}", "strip_whitespace": False},
        )
        edges.append((previous, "data", f"t{n}", "data"))
        previous = f"t{n}"
    blocks["out"] = ("output", {"name": "text"})
    edges.append((previous, "data", "out", "data"))
    version_id = create_version(server.ca, "doubling", graph(blocks, edges))
    outcome = hostile_case(
        server, "template doubling x25", job(server, version_id, {"in": "ab"}), job_result(server)
    )
    assert_budget_failure(server, outcome.result, ("resource_limit",), r"(?i)template|output size")
    assert_isolated(server, outcome)


def test_map_over_two_million_items(server: Server) -> None:
    configuration = graph(
        {
            "in": ("input", {"json_schema": {"type": "string"}}),
            "split": ("transform", {"operations": [{"type": "split_text", "separator": ","}]}),
            "each": (
                "map",
                {
                    "target_block_type": "string_template",
                    "target_config": {"template": "item {{data}}"},
                    "max_concurrency": 8,
                },
            ),
            "out": ("output", {"name": "items"}),
        },
        [
            ("in", "data", "split", "data"),
            ("split", "data", "each", "data"),
            ("each", "data", "out", "data"),
        ],
    )
    version_id = create_version(server.ca, "huge map", configuration)
    commas = "," * 1_999_999  # split: 2,000,000 empty strings
    outcome = hostile_case(
        server,
        "map over 2,000,000 items",
        job(server, version_id, {"in": commas}),
        job_result(server),
    )
    done = outcome.result
    if done["status"] != "completed":  # completing without stalling anyone is fine too
        assert_budget_failure(server, done, ("resource_limit",), r"(?i)map|item|value|size")
    assert_isolated(server, outcome)


# ---- CPU-bound jobs: cancel, wall time ----------------------------------------------------


def test_cancel_stops_a_cpu_bound_job(server: Server) -> None:
    version_id = create_version(server.ca, "heavy", heavy_configuration())
    items = heavy_input()
    cancel: dict[str, Any] = {}

    def cancel_it(execution_id: str) -> list[tuple[float, str]]:
        time.sleep(0.5)  # let it burn
        started = time.monotonic()
        try:
            cancel["response"] = server.ca.post(
                f"/pipeline-executions/{execution_id}/cancel", timeout=10
            )
        except httpx.TransportError as exc:
            cancel["error"] = repr(exc)
        seen: list[tuple[float, str]] = []  # (seconds after the cancel request, status)
        while time.monotonic() - started < 4.0:
            with contextlib.suppress(httpx.TransportError):
                record = server.ca.get(f"/pipeline-executions/{execution_id}", timeout=5).json()
                seen.append((time.monotonic() - started, record["status"]))
            time.sleep(0.1)
        # Its worker slot is free again: A's own echo runs.
        echo = start_execution(server.ca, server.echo_a, {"user_input": "after cancel"})
        cancel["echo"] = wait_execution(server.ca, echo.json()["pipelineExecutionId"], timeout=20)
        return seen

    outcome = hostile_case(
        server, "cancel a CPU-bound job", job(server, version_id, {"in": items}), cancel_it
    )
    seen = outcome.result
    print(
        f"  cancel {cancel.get('response') or cancel.get('error')}; "
        f"statuses {seen[:3]}...{seen[-1:]}"
    )
    assert "response" in cancel, cancel.get("error")
    assert cancel["response"].status_code == 200, cancel["response"].text
    cancelled_at = next((at for at, status in seen if status == "cancelled"), None)
    assert cancelled_at is not None and cancelled_at <= 2.0, seen
    assert all(status == "cancelled" for at, status in seen if at >= cancelled_at), seen
    assert cancel["echo"]["status"] == "completed", cancel["echo"]
    assert_isolated(server, outcome)


def test_wall_time_budget_ends_cpu_bound_jobs(server: Server, bombs: dict[str, bytes]) -> None:
    """Two jobs that touch no other budget, in one watch: the heavy transform, and a PDF whose
    ~200 KB stream inflates to 200 MiB (under the inflate budget of 256 MiB, so pdfminer would
    spend hours on it). The wall-time budget ends both."""
    file_id = upload_file(server.ca, bombs["inflate-200mib"], "200mib.pdf", "application/pdf")
    heavy = create_version(server.ca, "heavy", heavy_configuration())
    pdf = create_version(server.ca, "pdf 200 MiB", _pdf_configuration())

    def launch() -> tuple[str, str]:
        return job(server, heavy, {"in": heavy_input()})(), job(server, pdf, {"doc": file_id})()

    def finish(ids: tuple[str, str]) -> list[dict[str, Any]]:
        return [
            wait_execution(server.ca, execution_id, timeout=HOSTILE_DEADLINE)
            for execution_id in ids
        ]

    outcome = hostile_case(server, "wall-time budget", launch, finish)
    for done in outcome.result:
        assert_budget_failure(server, done, ("timeout", "resource_limit"), r"(?i)time|second")
        ran = _seconds(done["startedAt"], done["failedAt"])
        print(f"  failed {ran:.1f} s after it started: {done['progressData'].get('error')}")
        assert ran < TIMEOUT_SECONDS + 5, f"the {TIMEOUT_SECONDS} s budget took {ran:.1f} s to act"
    assert_isolated(server, outcome)


def _seconds(start: str, end: str) -> float:
    def parse(stamp: str) -> datetime:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))

    return (parse(end) - parse(start)).total_seconds()


# ---- PDF bombs (last: before the budgets exist they leave threads spinning) ---------------


def _pdf_configuration() -> dict[str, Any]:
    return graph(
        {
            "doc": ("input", {"json_schema": {"type": "string", "format": "file"}}),
            "read": ("pdf_reader", {}),
            "out": ("output", {"name": "text"}),
        },
        [("doc", "data", "read", "file_id"), ("read", "text", "out", "data")],
    )


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """~1 MB inflating to 1 GiB (over the default inflate budget of 256 MiB), ~200 KB inflating
    to 200 MiB (under it: pdfminer then spends hours on one 200 MiB token, so the wall-time
    budget has to end it), and 100,000 empty pages (~10 MB)."""
    return {
        "inflate-1gib": pdf_inflate_bomb(1024),
        "inflate-200mib": pdf_inflate_bomb(200),
        "pages": pdf_page_bomb(100_000),
    }


@pytest.mark.parametrize(
    ("kind", "error_types", "names"),
    [
        ("inflate-1gib", ("resource_limit",), r"(?i)inflat|decompress"),
        ("pages", ("resource_limit",), r"(?i)page"),
    ],
)
def test_pdf_bomb_hits_a_budget(
    server: Server,
    bombs: dict[str, bytes],
    kind: str,
    error_types: tuple[str, ...],
    names: str,
) -> None:
    file_id = upload_file(server.ca, bombs[kind], f"{kind}.pdf", "application/pdf")
    configuration = _pdf_configuration()
    version_id = create_version(server.ca, f"pdf {kind}", configuration)
    outcome = hostile_case(
        server, f"PDF {kind} bomb", job(server, version_id, {"doc": file_id}), job_result(server)
    )
    print(
        f"  {outcome.result['status']}: {(outcome.result.get('progressData') or {}).get('error')}"
    )
    assert_budget_failure(server, outcome.result, error_types, names)
    assert_isolated(server, outcome)
