"""Helpers of test_adversarial.py (and benchmarks/api_latency.py): the real server as a
subprocess, tenants made with the CLI, a latency watchdog, and hostile payloads.

Everything here talks to the server from the outside only: HTTP on loopback and the
`moderately` CLI. Nothing imports the server's internals, so the tests hold whatever way the
server runs its jobs.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import math
import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from api_helpers import TERMINAL
from pdf_builder import pdf_from_objects
from pipelines_helpers import graph


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parse_credentials(text: str) -> dict[str, str]:
    """The `MODERATELY_*=value` lines of credentials.env or of `admin create-user`."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith("MODERATELY_"):
            found[key.strip()] = value.strip()
    return found


# ---- the server ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    """One user's token and team on the server."""

    name: str
    base_url: str
    api_key: str
    team_id: str

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=timeout,
        )


class ServerProcess:
    """`python -m moderately.cli serve` in a session of its own (so its worker children share
    its process group and die with it), output to `<data dir>/server.log`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        database_url: str | None = None,
        workers: int = 2,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.database_url = database_url
        self.workers = workers
        self.extra_env = dict(env or {})
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir / "server.log"
        self.children_left_after_stop = False

    # -- lifecycle --

    def _env(self) -> dict[str, str]:
        # The server's settings come from its flags and from `extra_env` only.
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATELY_")}
        env.update(self.extra_env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def _database_flags(self) -> list[str]:
        flags = ["--data-dir", str(self.data_dir)]
        if self.database_url:
            flags += ["--database-url", self.database_url]
        return flags

    def start(self, timeout: float = 90.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        command = [sys.executable, "-m", "moderately.cli", "serve", "--port", str(self.port)]
        command += ["--workers", str(self.workers), "--log-level", "warning"]
        command += self._database_flags()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env(),
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited during startup ({self.process.returncode}):\n"
                    + self.log_tail()
                )
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer /health in {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, SIGKILL after `timeout`; then SIGKILL to whatever is left of its group."""
        process = self.process
        if process is None:
            return
        pgid = process.pid  # start_new_session: the server leads its own group
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
                process.wait(10)
        # Its workers and job processes get a few seconds to follow it; then SIGKILL.
        deadline = time.monotonic() + 5
        while self._group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._group_alive(pgid):
            self.children_left_after_stop = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        self.process = None

    @staticmethod
    def _group_alive(pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True

    def processes(self) -> str:
        """`ps` of the server's process group (the server, its workers, their job processes)."""
        if self.process is None:
            return "(not running)"
        done = subprocess.run(
            ["ps", "-o", "pid,ppid,etimes,pcpu,rss,args", "-g", str(self.process.pid)],
            capture_output=True,
            text=True,
            check=False,
        )
        return "\n".join(line[:160] for line in done.stdout.splitlines())

    # -- facts --

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def admin(self) -> Tenant:
        found = parse_credentials((self.data_dir / "credentials.env").read_text())
        return Tenant(
            "admin", found["MODERATELY_BASE_URL"], found["MODERATELY_API_KEY"],
            found["MODERATELY_TEAM_ID"],
        )  # fmt: skip

    def create_user(self, email: str, team_name: str) -> Tenant:
        """`moderately admin create-user` against the server's database: a new team."""
        command = [sys.executable, "-m", "moderately.cli", "admin", "create-user"]
        command += [*self._database_flags(), "--email", email, "--team-name", team_name]
        done = subprocess.run(
            command, capture_output=True, text=True, env=self._env(), timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"create-user failed: {done.stdout}\n{done.stderr}")
        found = parse_credentials(done.stdout)
        return Tenant(
            team_name, found["MODERATELY_BASE_URL"], found["MODERATELY_API_KEY"],
            found["MODERATELY_TEAM_ID"],
        )  # fmt: skip


# ---- the watchdog -------------------------------------------------------------------------


@dataclass(frozen=True)
class LatencyStats:
    count: int
    failures: int  # probes answered other than 200, or not answered
    p50_ms: float
    p99_ms: float
    max_ms: float

    def __str__(self) -> str:
        return (
            f"{self.count} probes, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, "
            f"max {self.max_ms:.1f} ms, {self.failures} failed"
        )


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of `values`; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


class Watchdog:
    """A thread that GETs `path` every `interval` s on one persistent connection and records
    each latency. A probe still unanswered when the watchdog stops counts with the time it has
    waited so far, so a server that froze shows up even if it never answers."""

    def __init__(
        self,
        base_url: str,
        token: str,
        path: str,
        *,
        interval: float = 0.05,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = (parts.path.rstrip("/") or "") + path
        self.headers = {"Authorization": f"Bearer {token}", "Connection": "keep-alive"}
        self.interval = interval
        self.timeout = timeout
        self.samples: list[tuple[float, int | None]] = []  # (seconds, status or None)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        self._inflight_since: float | None = None
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _connection(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        connection.connect()
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _run(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while not self._stop.is_set():
            started = time.perf_counter()
            with self._lock:
                self._inflight_since = started
            status: int | None = None
            try:
                if connection is None:
                    connection = self._connection()
                connection.request("GET", self.path, headers=self.headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                if connection is not None:
                    connection.close()
                connection = None
            elapsed = time.perf_counter() - started
            with self._lock:
                self._inflight_since = None
                if not self._closed:
                    self.samples.append((elapsed, status))
            self._stop.wait(self.interval)
        if connection is not None:
            connection.close()

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        """Keep probing until `count` samples are in (p99 means little over fewer than 100)."""
        deadline = time.monotonic() + timeout
        while len(self.samples) < count and time.monotonic() < deadline:
            if not self._thread.is_alive():
                return
            time.sleep(0.05)

    def stop(self) -> LatencyStats:
        self._stop.set()
        self._thread.join(timeout=0.5)
        with self._lock:
            if not self._closed:
                self._closed = True
                if self._inflight_since is not None:  # a probe the server never answered
                    self.samples.append((time.perf_counter() - self._inflight_since, None))
        return self.stats()

    def stats(self) -> LatencyStats:
        with self._lock:
            samples = list(self.samples)
        latencies = [seconds * 1000 for seconds, _ in samples]
        return LatencyStats(
            count=len(samples),
            failures=sum(1 for _, status in samples if status != 200),
            p50_ms=percentile(latencies, 0.50),
            p99_ms=percentile(latencies, 0.99),
            max_ms=max(latencies, default=0.0),
        )


# ---- the API, briefly (configurations: pipelines_helpers) ----------------------------------


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text[:2000]}"
    return response.json()


_names = iter(range(1, 10**9))


def create_version(client: httpx.Client, name: str, configuration: dict[str, Any]) -> str:
    """A new pipeline and a draft version of `configuration`; the version id."""
    pipeline = ok(client.post("/pipelines", json={"name": f"{name}-{next(_names)}"}), 201)
    version = ok(
        client.post(
            "/pipeline-configuration-versions",
            json={"pipelineId": pipeline["pipelineId"], "configuration": configuration},
        ),
        201,
    )
    return str(version["pipelineConfigurationVersionId"])


def start_execution(client: httpx.Client, version_id: str, pipeline_input: Any) -> httpx.Response:
    return client.post(
        "/pipeline-executions",
        json={
            "pipelineConfigurationVersionId": version_id,
            "pipelineInput": pipeline_input,
            "pipelineInputSummary": "adversarial",
        },
    )


def wait_execution(
    client: httpx.Client,
    execution_id: str,
    *,
    until: tuple[str, ...] = TERMINAL,
    timeout: float = 30.0,
    interval: float = 0.05,
) -> dict[str, Any]:
    """Poll GET /pipeline-executions/{id} until its status is one of `until`, or `timeout` s
    passed (then the last record read, whatever its status; None-safe on transport errors)."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {"status": "unknown", "pipelineExecutionId": execution_id}
    while True:
        try:
            response = client.get(f"/pipeline-executions/{execution_id}")
            if response.status_code == 200:
                last = response.json()
                if last["status"] in until:
                    return last
        except httpx.TransportError:
            pass
        if time.monotonic() >= deadline:
            return last
        time.sleep(interval)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_bytes(url: str, data: bytes, headers: dict[str, str] | None = None) -> None:
    response = httpx.put(url, content=data, headers=headers or {}, timeout=120)
    assert response.status_code in (200, 201, 204), response.text[:500]


def upload_file(client: httpx.Client, data: bytes, name: str, mime: str) -> str:
    """The upload flow of the files API (URL, PUT, complete); the file id."""
    ticket = ok(
        client.post(
            "/files/upload-url",
            json={"fileName": name, "fileSize": len(data), "fileHash": sha256(data),
                  "mimeType": mime},
        ),
        201,
    )  # fmt: skip
    put_bytes(ticket["uploadUrl"], data, ticket.get("uploadHeaders"))
    file_id = ticket["file"]["fileId"]
    ok(client.post(f"/files/{file_id}/complete",
                   json={"fileSize": len(data), "fileHash": sha256(data)}))  # fmt: skip
    return str(file_id)


# ---- hostile payloads ---------------------------------------------------------------------


def heavy_input(items: int = 20_000, seed: int = 7) -> list[dict[str, int]]:
    """Objects with two independent random keys, for `heavy_configuration`."""
    rng = random.Random(seed)
    return [{"a": rng.randrange(10**6), "b": rng.randrange(10**6)} for _ in range(items)]


def heavy_configuration(sorts: int = 200) -> dict[str, Any]:
    """A CPU-bound pipeline that touches no budget: one `transform` that sorts its input by `a`,
    then by `b`, and so on `sorts` times (each sort really reorders the list). On 20,000 items
    one sort is ~0.1 s of pure-Python comparisons on this machine, so 200 sorts is ~20 s of CPU
    for a value of ~0.6 MB, with no await in between."""
    operations = [{"type": "sort", "field": "a" if n % 2 == 0 else "b"} for n in range(sorts)]
    return graph(
        {
            "in": ("input", {"json_schema": {"type": "array"}}),
            "work": ("transform", {"operations": operations}),
            "out": ("output", {"name": "sorted"}),
        },
        [("in", "data", "work", "data"), ("work", "data", "out", "data")],
    )


def pdf_inflate_bomb(inflated_mib: int = 200) -> bytes:
    """One page whose FlateDecode content stream is ~200 KB and inflates to `inflated_mib` MiB
    of ASCII zeros."""
    compressor = zlib.compressobj(9)
    block = b"0" * (1 << 20)
    stream = b"".join(compressor.compress(block) for _ in range(inflated_mib))
    stream += compressor.flush()
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << >> "
            b"/Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream",
        ]
    )


def pdf_page_bomb(pages: int = 50_000) -> bytes:
    """A valid PDF of `pages` empty pages (~4 MB for 50,000)."""
    kids = b" ".join(b"%d 0 R" % (n + 3) for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * pages
    return pdf_from_objects(objects)


@dataclass
class BodyResult:
    status: int | None
    body: bytes
    sent: int  # body bytes the server accepted before it answered or closed
    seconds: float
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def post_oversized(
    base_url: str, path: str, total: int, *, chunked: bool, piece: int = 1 << 20
) -> BodyResult:
    """POST a `total`-byte JSON body (no token) in `piece`-sized writes on a raw socket; stop
    sending as soon as the server answers or closes, and report how much it took."""
    parts = urlsplit(base_url)
    started = time.monotonic()
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    head = (
        f"POST {parts.path.rstrip('/')}{path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    )
    prefix, suffix = b'{"name": "', b'"}'
    filler = b"x" * piece
    sent = 0
    error: str | None = None
    try:
        sock.sendall(head.encode("latin-1"))
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # an early answer (or a close): stop sending
            size = min(piece, total - sent)
            data = filler[:size]
            if sent == 0:
                data = prefix + data[len(prefix) :]
            if sent + size == total:
                data = data[: size - len(suffix)] + suffix
            if chunked:
                data = b"%x\r\n" % len(data) + data + b"\r\n"
            sock.sendall(data)
            sent += size
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
    except OSError as exc:  # the server closed, or stopped reading (send timeout)
        error = f"{type(exc).__name__}: {exc}"
    status: int | None = None
    body = b""
    headers: dict[str, str] = {}
    try:
        sock.settimeout(30)
        response = http.client.HTTPResponse(sock)
        response.begin()
        status = response.status
        headers = {k.lower(): v for k, v in response.getheaders()}
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        error = (error + "; " if error else "") + f"reading: {type(exc).__name__}: {exc}"
    finally:
        sock.close()
    return BodyResult(status, body, sent, time.monotonic() - started, error, headers)


class LoopbackListener:
    """A TCP listener on 127.0.0.1 that counts connections (and answers each with a tiny JSON
    Schema, so a server that does fetch gets something it can use, and it shows)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="listener", daemon=True)

    def __enter__(self) -> LoopbackListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def _serve(self) -> None:
        body = b'{"type": "string"}'
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            with contextlib.suppress(OSError), connection:
                connection.settimeout(1)
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
                )


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    """`with timed() as took:` ... `took[0]` is the seconds the block took."""
    took = [0.0]
    started = time.monotonic()
    try:
        yield took
    finally:
        took[0] = time.monotonic() - started
