"""More than one API process on one database, for real: `moderately serve --api-workers 2`, and two
`moderately serve` processes on one PostgreSQL database and one S3 store (SeaweedFS).

What is observed comes from outside the servers: the OS (the process tree, which process holds
which TCP connection, /proc/locks), the database (pg_locks, the jobs table) and the servers' logs.
Waits have deadlines; nothing asserts how fast anything is.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest
from adversarial_helpers import free_port, parse_credentials
from api_helpers import POSTGRES_ADMIN_URL, TERMINAL
from live_servers import BUCKET
from pipelines_helpers import echo_configuration, sleep_chain

from moderately.config import Settings
from moderately.leader_lock import advisory_key, leader_lock
from moderately.periodic_sweeps import LOCK_NAME
from moderately.testing import create_postgres_database, drop_postgres_database
from moderately.testing_s3 import S3Endpoint

T = TypeVar("T")

# The servers import the tests' block types (test_sleep) as the test process does: their API
# validates configurations with them (block_plugins.py; the job processes get them through
# MODERATELY_JOB_MODULES).
_LAUNCH = "import sys, block_plugins; from moderately.cli import main; sys.exit(main(sys.argv[1:]))"
_TESTS = str(Path(__file__).parent)
DEADLINE = 180.0  # seconds any one wait may take on a busy machine


# ---- the servers, as processes ----------------------------------------------------------------


class Server:
    """`moderately serve` in a session of its own, output to `<data dir>/server.log`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        database_url: str | None = None,
        workers: int = 1,
        api_workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.log_path = data_dir / "server.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        command = [sys.executable, "-c", _LAUNCH, "serve", "--port", str(self.port)]
        command += ["--workers", str(workers), "--api-workers", str(api_workers)]
        command += ["--log-level", "warning", "--data-dir", str(data_dir)]
        if database_url:
            command += ["--database-url", database_url]
        self.command = command
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATELY_")}
        self.env.update(
            {
                "PYTHONPATH": os.pathsep.join([_TESTS, os.environ.get("PYTHONPATH", "")]),
                "PYTHONUNBUFFERED": "1",
                "MODERATELY_JOB_MODULES": "block_plugins",
                "MODERATELY_JOB_PRELOAD_AI": "false",
                "MODERATELY_UPLOAD_SWEEP_INTERVAL_SECONDS": "0.2",
                **(env or {}),
            }
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
            )

        def healthy() -> bool:
            assert self.process is not None
            assert self.process.poll() is None, self.log_tail()
            with contextlib.suppress(httpx.TransportError):
                return httpx.get(f"{self.base_url}/health", timeout=5).status_code == 200
            return False

        wait_for(healthy, "the server to answer /health")

    def kill(self) -> None:
        """SIGKILL to the server and everything in its session (workers, job processes)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(30)
            self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(60)
        self.kill()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def api_key(self) -> str:
        return parse_credentials((self.data_dir / "credentials.env").read_text())[
            "MODERATELY_API_KEY"
        ]

    def descendants(self) -> dict[int, str]:
        """pid -> command line of every process below the server."""
        found: dict[int, str] = {}
        parents = {self.pid}
        while True:
            more = {pid: args for pid, (ppid, args) in processes().items() if ppid in parents}
            more = {pid: args for pid, args in more.items() if pid not in found}
            if not more:
                return found
            found.update(more)
            parents = set(more)

    def api_processes(self) -> set[int]:
        """The API processes uvicorn started (all the server's own with --api-workers 1)."""
        spawned = {
            pid
            for pid, args in self.descendants().items()
            if "multiprocessing.spawn" in args and processes().get(pid, (0, ""))[0] == self.pid
        }
        return spawned or {self.pid}

    def job_workers(self) -> set[int]:
        return {pid for pid, args in self.descendants().items() if " worker --supervised" in args}


@contextlib.contextmanager
def running(*servers: Server) -> Iterator[None]:
    try:
        for server in servers:  # one at a time: the first migrates and bootstraps
            server.start()
        yield
    finally:
        for server in servers:
            server.stop()


def wait_for(check: Callable[[], T], what: str, deadline: float = DEADLINE) -> T:
    end = time.monotonic() + deadline
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.1)


# ---- what the OS says ---------------------------------------------------------------------------


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process."""
    found: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        found[int(entry.name)] = (ppid, args)
    return found


def tcp_sockets() -> dict[int, tuple[int, int, str]]:
    """Socket inode -> (local port, remote port, state) of every TCP socket ("01": established)."""
    found: dict[int, tuple[int, int, str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
                found[inode] = (
                    int(local.rsplit(":", 1)[1], 16),
                    int(remote.rsplit(":", 1)[1], 16),
                    state,
                )
    return found


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


def connections_by_process(pids: set[int], local_port: int) -> dict[int, int]:
    """How many established TCP connections on `local_port` each of `pids` holds."""
    sockets = tcp_sockets()
    counts = {}
    for pid in pids:
        counts[pid] = sum(
            1
            for inode in socket_inodes(pid)
            if inode in sockets and sockets[inode][0] == local_port and sockets[inode][2] == "01"
        )
    return counts


def flock_holders(path: Path) -> set[int]:
    """The processes holding a flock on `path` (/proc/locks)."""
    inode = path.stat().st_ino
    holders = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK":
            continue
        if int(fields[5].rsplit(":", 1)[1]) == inode:
            holders.add(int(fields[4]))
    return holders


# ---- one server, two API processes (SQLite) -----------------------------------------------------


def test_api_workers_share_one_port_and_sweep_once(tmp_path: Path) -> None:
    """`serve --api-workers 2 --workers 1`: two API processes answer on one port, one job worker
    runs the jobs, and one API process at a time holds the sweeps' lock, also after it dies."""
    server = Server(tmp_path / "data", workers=1, api_workers=2)
    with running(server):
        api = wait_for(
            lambda: found if len(found := server.api_processes()) == 2 else None,
            "two API processes",
        )
        assert len(server.job_workers()) == 1, server.descendants()

        # Both answer: open connections (each asks /health and stays open) until both API
        # processes hold some. The kernel hands each new connection to one of them.
        held: list[http.client.HTTPConnection] = []
        try:

            def both_serve() -> bool:
                for _ in range(5):
                    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                    connection.request("GET", "/health")
                    response = connection.getresponse()
                    response.read()
                    assert response.status == 200
                    held.append(connection)
                counts = connections_by_process(api, server.port)
                return all(counts.values())

            wait_for(both_serve, "connections answered by both API processes")
        finally:
            for connection in held:
                connection.close()

        # The sweeps: one holder, an API process (not the parent, not a job worker).
        lock_file = tmp_path / "data" / f"moderately.db.{LOCK_NAME}.lock"
        wait_for(lock_file.exists, "the sweeps' lock file")
        holders = wait_for(lambda: flock_holders(lock_file), "a holder of the sweeps' lock")
        assert len(holders) == 1 and holders <= api, (holders, api)

        # Its holder dies: uvicorn starts another API process, and one process holds the lock.
        (leader,) = holders
        os.kill(leader, signal.SIGKILL)
        new_holders = wait_for(
            lambda: (found := flock_holders(lock_file)) and leader not in found and found,
            "another holder of the sweeps' lock",
        )
        assert len(new_holders) == 1 and new_holders <= server.api_processes()

        # Jobs still run, in the one job worker (not one per API process).
        headers = {"Authorization": f"Bearer {server.api_key()}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
            record = run_pipeline(client, echo_configuration(), "hello")
        assert record["status"] == "completed", record
        assert record["pipelineOutput"] == {"echoed_message": "hello"}
        assert len(server.job_workers()) == 1


def run_pipeline(client: httpx.Client, configuration: dict[str, Any], value: Any) -> Any:
    execution_id = start_pipeline(client, configuration, value)
    return wait_for(
        lambda: (
            (r := client.get(f"/pipeline-executions/{execution_id}").json())["status"] in TERMINAL
            and r
        ),
        "the execution to end",
    )


def start_pipeline(client: httpx.Client, configuration: dict[str, Any], value: Any) -> str:
    pipeline = client.post("/pipelines", json={"name": "many servers"})
    assert pipeline.status_code == 201, pipeline.text
    version = client.post(
        "/pipeline-configuration-versions",
        json={"pipelineId": pipeline.json()["pipelineId"], "configuration": configuration},
    )
    assert version.status_code == 201, version.text
    created = client.post(
        "/pipeline-executions",
        json={
            "pipelineConfigurationVersionId": version.json()["pipelineConfigurationVersionId"],
            "pipelineInput": {next(iter(configuration["blocks"])): value},
            "pipelineInputSummary": str(value),
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["pipelineExecutionId"])


# ---- two servers, one PostgreSQL database and one S3 store ---------------------------------------


@pytest.fixture
def database_url() -> Iterator[str]:
    url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        yield url
    finally:
        drop_postgres_database(url)


def two_servers(
    tmp_path: Path, database_url: str, store: S3Endpoint, *, workers: int = 1, **env: str
) -> tuple[Server, Server]:
    shared = {
        "MODERATELY_STORAGE_URL": store.storage_url(f"{BUCKET}/many-servers-{tmp_path.name}"),
        **store.env(),
        **env,
    }
    return (
        Server(tmp_path / "a", database_url=database_url, workers=workers, env=shared),
        Server(tmp_path / "b", database_url=database_url, workers=workers, env=shared),
    )


def sweep_lock_holders(database_url: str) -> list[int]:
    """The client ports of the database sessions holding the sweeps' advisory lock."""
    key = advisory_key(LOCK_NAME)
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND l.classid::bigint = %s AND l.objid::bigint = %s",
            ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
        ).fetchall()
    return [row[0] for row in rows]


def server_with_client_port(servers: tuple[Server, ...], port: int) -> Server | None:
    sockets = tcp_sockets()
    for server in servers:
        for pid in server.api_processes():
            if any(sockets.get(inode, (0, 0, ""))[0] == port for inode in socket_inodes(pid)):
                return server
    return None


def test_two_servers_sweep_once_and_recover_once(
    tmp_path: Path, database_url: str, seaweedfs: S3Endpoint
) -> None:
    """Two servers on one database: one holds the sweeps' lock at a time (the other takes it
    when the first dies); a job whose worker was killed is recovered once, and its execution
    completes."""
    a, b = two_servers(
        tmp_path,
        database_url,
        seaweedfs,
        MODERATELY_JOB_LEASE_SECONDS="2",
        MODERATELY_JOB_RECOVERY_INTERVAL_SECONDS="0.3",
        MODERATELY_JOB_POLL_INTERVAL_SECONDS="0.2",
    )
    with running(a, b):
        # -- an execution left running by a worker killed with SIGKILL --
        headers = {"Authorization": f"Bearer {a.api_key()}"}
        with httpx.Client(base_url=b.base_url, headers=headers, timeout=30) as client:
            execution_id = start_pipeline(client, sleep_chain(1.0, 4), "survives")

            def claimed() -> tuple[str, str] | None:
                with psycopg.connect(database_url) as connection:
                    row = connection.execute(
                        "SELECT job_id, worker_id FROM jobs WHERE status = 'running'"
                        " AND payload::text LIKE %s",
                        (f"%{execution_id}%",),
                    ).fetchone()
                return (row[0], row[1]) if row else None

            job_id, worker_id = wait_for(claimed, "a worker to claim the execution")
            workers = a.job_workers() | b.job_workers()
            (victim,) = [pid for pid in workers if f":{pid}:" in worker_id]
            os.kill(victim, signal.SIGKILL)

            record = wait_for(
                lambda: (
                    (r := client.get(f"/pipeline-executions/{execution_id}").json())["status"]
                    in TERMINAL
                    and r
                ),
                "the execution to end",
            )
        assert record["status"] == "completed", record
        assert record["pipelineOutput"] == {"result": "survives"}

        def finished_job() -> tuple[str, int, str | None] | None:
            with psycopg.connect(database_url) as connection:
                row = connection.execute(
                    "SELECT status, attempts, last_error FROM jobs WHERE job_id = %s", (job_id,)
                ).fetchone()
            return (row[0], row[1], row[2]) if row and row[0] in ("done", "failed") else None

        # The job itself ends just after the execution it ran.
        status, attempts, last_error = wait_for(finished_job, "the job to end")
        assert (status, attempts) == ("done", 2), last_error
        assert "lease expired) on attempt 1" in (last_error or "")
        recoveries = sum(
            server.log_path.read_text().count("recovered 1 expired jobs") for server in (a, b)
        )
        assert recoveries == 1, (a.log_tail(), b.log_tail())

        # -- the sweeps: one session holds the lock, in one of the two servers --
        ports = wait_for(lambda: sweep_lock_holders(database_url), "a holder of the sweeps' lock")
        assert len(ports) == 1
        leader = wait_for(lambda: server_with_client_port((a, b), ports[0]), "the holder")
        other = b if leader is a else a
        leader.kill()
        ports = wait_for(
            lambda: (
                (p := sweep_lock_holders(database_url))
                and server_with_client_port((other,), p[0])
                and p
            ),
            "the other server to take the sweeps' lock",
        )
        assert len(ports) == 1


def test_two_servers_share_one_rate_limit(
    tmp_path: Path, database_url: str, seaweedfs: S3Endpoint
) -> None:
    """A limit of 10 a minute across both servers: of 30 requests at once, 15 to each, 10 are
    granted in all (plus what the bucket refilled while they ran, at one every 6 s)."""
    a, b = two_servers(
        tmp_path, database_url, seaweedfs, workers=0, MODERATELY_RATE_LIMIT_PER_MINUTE="10"
    )
    with running(a, b):
        headers = {"Authorization": f"Bearer {a.api_key()}"}

        def whoami(server: Server) -> tuple[Server, int]:
            response = httpx.get(
                f"{server.base_url}/authentication/whoami", headers=headers, timeout=60
            )
            return server, response.status_code

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            answers = list(pool.map(whoami, [a, b] * 15))
        elapsed = time.monotonic() - started
    granted = [server for server, status in answers if status == 200]
    refused = [server for server, status in answers if status == 429]
    assert len(granted) + len(refused) == 30, answers
    refilled = int(elapsed * 10 / 60)
    assert 10 <= len(granted) <= 10 + refilled, (len(granted), elapsed)
    # Each server alone would have granted 10 of its 15.
    assert refused.count(a) >= 5 - refilled and refused.count(b) >= 5 - refilled


# ---- the lock itself, in one process (SQLite and PostgreSQL) ------------------------------------


@pytest.mark.anyio
async def test_one_holder_at_a_time_and_the_next_takes_over(settings: Settings) -> None:
    """Two holders-to-be on one database (as two processes would be): one holds the lock; once
    it lets go, the other takes it."""
    first, second = leader_lock(settings, "test-lock"), leader_lock(settings, "test-lock")
    try:
        assert await first.hold()
        assert await first.hold()  # still held: asking again keeps it
        assert not await second.hold()
        await first.release()
        assert await second.hold()
        assert not await first.hold()
    finally:
        await first.release()
        await second.release()
