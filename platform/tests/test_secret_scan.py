"""A secret scan after a whole SDK workflow against `moderately serve`, run as an operator runs
it (a process of its own, `--log-level debug`, uvicorn's access log on, every line of the server,
its workers and their job processes captured in one file), on SQLite + local store and on
PostgreSQL + S3 (SeaweedFS).

The workflow: API tokens (one created under an Idempotency-Key, then the same request again),
files uploaded and downloaded, a file deleted and its old URL fetched, a dataset with data
processed, a pipeline run, an agent with a configuration. Then
no API token secret made in the run is in any column of any table, in the log or in any stored
object, and no storage URL signature the server handed out (the local store's path tokens,
S3's `X-Amz-Signature`) is in the log. The access log shows the requests, redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session
import httpx
import psycopg
import pytest
from api_helpers import POSTGRES_ADMIN_URL
from live_servers import BUCKET, CONFIGURATIONS
from moderatelyai_sdk import AsyncModeratelyAI
from pipelines_helpers import echo_configuration

from moderately.testing import create_postgres_database, drop_postgres_database
from moderately.testing_s3 import S3Endpoint

pytestmark = pytest.mark.anyio

CSV = b"name,amount\nalpha,1\nbeta,2\ngamma,3\n"
# A storage credential in a URL: the local store's path token, S3's query signature.
LOCAL_TOKEN = re.compile(r"/_storage/(?:upload|download)/([^/?#\s\"'<>\\]+)")
S3_SIGNATURE = re.compile(r"X-Amz-Signature=([0-9a-fA-F]{16,})")
# Anything that still looks like one in a log line (not yet redacted).
UNREDACTED = re.compile(
    r"/_storage/(?:upload|download)/(?!<redacted>)[A-Za-z0-9_-]"
    r"|X-Amz-(?:Signature|Credential|Security-Token)=(?!<redacted>)"
    r"|mai_[A-Za-z0-9_-]{40}"
)


@dataclass
class Served:
    """`moderately serve` in a process of its own, and where everything it keeps lives."""

    base_url: str
    api_key: str
    team_id: str
    log: Path
    data_dir: Path
    database_url: str | None
    s3: S3Endpoint | None = None
    bucket: str = ""
    prefix: str = ""
    # Secrets only the server holds: never in its log.
    server_secrets: list[str] = field(default_factory=list)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moderately serve exited:\n{log.read_text()[-3000:]}")
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(f"{base_url}/health", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"moderately serve did not become healthy:\n{log.read_text()[-3000:]}")


def credentials(data_dir: Path) -> dict[str, str]:
    lines = (data_dir / "credentials.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


@contextlib.contextmanager
def serve(root: Path, env: dict[str, str]) -> Iterator[tuple[str, Path, Path]]:
    """Run `moderately serve` until the block ends; its base URL, data dir and log file."""
    data_dir, log = root / "data", root / "server.log"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    variables = {
        **os.environ,
        **env,
        "PYTHONUNBUFFERED": "1",
        "MODERATELY_DATA_DIR": str(data_dir),
        "MODERATELY_WORKERS": "1",
    }
    command = [sys.executable, "-m", "moderately.cli", "serve", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--log-level", "debug"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=variables,
            start_new_session=True,
        )
    try:
        wait_healthy(base_url, process, log)
        yield base_url, data_dir, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module", params=CONFIGURATIONS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("secret-scan")
    if request.param == "sqlite-local":
        with serve(root, {}) as (base_url, data_dir, log):
            found = credentials(data_dir)
            yield Served(
                base_url,
                found["MODERATELY_API_KEY"],
                found["MODERATELY_TEAM_ID"],
                log,
                data_dir,
                None,
                server_secrets=[(data_dir / "signing_secret").read_text().strip()],
            )
        return
    s3: S3Endpoint = request.getfixturevalue("seaweedfs")
    prefix = f"secret-scan-{uuid.uuid4().hex[:8]}"
    database_url = create_postgres_database(POSTGRES_ADMIN_URL)
    env = {
        **s3.env(),
        "MODERATELY_DATABASE_URL": database_url,
        "MODERATELY_STORAGE_URL": s3.storage_url(f"{BUCKET}/{prefix}"),
    }
    try:
        with serve(root, env) as (base_url, data_dir, log):
            found = credentials(data_dir)
            yield Served(
                base_url,
                found["MODERATELY_API_KEY"],
                found["MODERATELY_TEAM_ID"],
                log,
                data_dir,
                database_url,
                s3,
                BUCKET,
                prefix,
                server_secrets=[s3.secret_key],
            )
    finally:
        drop_postgres_database(database_url)


class Seen:
    """Every JSON body the clients received (where the storage URLs come from)."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    async def __call__(self, response: httpx.Response) -> None:
        if "json" in response.headers.get("content-type", ""):
            await response.aread()
            self.bodies.append(response.text)

    def storage_credentials(self) -> set[str]:
        text = "\n".join(self.bodies)
        return set(LOCAL_TOKEN.findall(text)) | set(S3_SIGNATURE.findall(text))


async def wait_until_logged(served: Served, fragment: str) -> str:
    """The log once `fragment` is in it (the access line of a request is written after its
    response; the deadline only guards against a hang)."""
    deadline = time.monotonic() + 15
    while fragment not in (text := served.log_text()):
        assert time.monotonic() < deadline, f"{fragment!r} never logged"
        await asyncio.sleep(0.05)
    return text


async def test_the_access_log_shows_requests_without_credentials(served: Served) -> None:
    fake_secret = "mai_" + "Q" * 40
    signature = "feedface" * 8
    async with httpx.AsyncClient(base_url=served.base_url) as client:
        refused = await client.get(
            "/agents",
            params={"X-Amz-Signature": signature, "X-Amz-Credential": "AKIDLEAK/2026", "n": "1"},
            headers={"Authorization": f"Bearer {fake_secret}"},
        )
        assert refused.status_code == 401 and fake_secret not in refused.text
        forged = await client.get("/_storage/download/eyJmb3JnZWQiOiJ0b2tlbiJ9.c2lnbmVk")
        assert forged.status_code in (403, 404) and "eyJmb3JnZWQiOiJ0b2tlbiJ9" not in forged.text
    text = await wait_until_logged(served, "/_storage/download/<redacted>")
    assert "GET /agents?X-Amz-Signature=<redacted>&X-Amz-Credential=<redacted>&n=1" in text
    for hidden in (fake_secret, signature, "AKIDLEAK", "eyJmb3JnZWQiOiJ0b2tlbiJ9"):
        assert hidden not in text


async def test_no_secret_in_the_database_the_log_or_the_store(served: Served) -> None:
    seen = Seen()
    secrets = [served.api_key]
    admin_headers = {"Authorization": f"Bearer {served.api_key}"}
    async with httpx.AsyncClient(
        base_url=served.base_url, headers=admin_headers, event_hooks={"response": [seen]}
    ) as admin:
        plain = await admin.post("/api-tokens", json={"name": "plain"})
        assert plain.status_code == 201, plain.text
        secrets.append(plain.json()["token"])
        once = {"Idempotency-Key": f"scan-{uuid.uuid4().hex}"}
        first = await admin.post("/api-tokens", json={"name": "once"}, headers=once)
        assert first.status_code == 201, first.text
        secrets.append(first.json()["token"])
        again = await admin.post("/api-tokens", json={"name": "once"}, headers=once)
        assert again.status_code < 500, again.text
        secrets.extend(re.findall(r"mai_[A-Za-z0-9_-]{40}", again.text))
        assert set(secrets[1:]) == {plain.json()["token"], first.json()["token"]}
        await workflow(served, secrets[1], seen)

    assert secrets and seen.storage_credentials(), "the workflow handed out no storage URL"
    findings = scan_database(served, secrets)
    findings += scan_store(served, secrets)
    log = served.log_text()
    findings += [f"log: token {s[:8]}..." for s in secrets if s in log]
    findings += [f"log: server secret {s[:4]}..." for s in served.server_secrets if s in log]
    findings += [
        f"log: storage credential {c[:8]}..." for c in seen.storage_credentials() if c in log
    ]
    findings += [f"log: unredacted {m.group(0)!r}" for m in UNREDACTED.finditer(log)]
    assert findings == []
    # The log does hold the requests (the access log), redacted where they carry a credential.
    assert '"PUT /_storage/upload/<redacted>' in log or served.s3 is not None
    assert '"POST /api-tokens HTTP/1.1" 201' in log


async def workflow(served: Served, api_key: str, seen: Seen) -> None:
    """Files, a dataset, a pipeline run and an agent, through the SDK with a token made above."""
    http = httpx.AsyncClient(event_hooks={"response": [seen]}, timeout=60)
    async with AsyncModeratelyAI(
        api_key=api_key, team_id=served.team_id, base_url=served.base_url, http_client=http
    ) as sdk:
        kept = await sdk.files.upload(b"quarterly notes\n", name="notes.txt")
        assert await kept.download() == b"quarterly notes\n"
        gone = await sdk.files.upload(b"short lived\n", name="gone.txt")
        url = (
            await http.get(
                f"{served.base_url}/files/{gone.file_id}/download",
                headers={"Authorization": f"Bearer {api_key}"},
            )
        ).json()["downloadUrl"]
        await gone.delete()
        stale = await http.get(url)
        assert stale.status_code in (403, 404), stale.text
        if served.s3 is None:  # our answer (on S3 it is the S3 server's own, naming the key)
            assert "files/" + gone.file_id not in stale.text

        dataset = await sdk.datasets.create(name=f"scan {uuid.uuid4().hex[:6]}")
        await dataset.upload_data(file=CSV, file_type="csv", status="current")
        await dataset.create_schema_from_sample(sample_file=CSV, status="current", header_row=1)
        await dataset.update(should_process=True)
        deadline = time.monotonic() + 60
        while (found := await sdk.datasets.retrieve(dataset.dataset_id)).processing_status not in (
            "completed",
            "failed",
        ):
            assert time.monotonic() < deadline, found.processing_status
            await asyncio.sleep(0.2)
        assert found.processing_status == "completed", found.processing_error

        pipeline = await sdk.pipelines.create(name=f"echo {uuid.uuid4().hex[:6]}")
        version = await pipeline.create_configuration_version(
            configuration=echo_configuration(), status="current"
        )
        execution = await version.execute(
            pipeline_input={"user_input": "hello"}, block=True, timeout=60, poll_interval=0.2
        )
        assert await execution.get_output() == {"echoed_message": "hello"}

        agent = await sdk.agents.create(name=f"agent {uuid.uuid4().hex[:6]}")
        await sdk.agent_configuration_versions.create(
            agent_id=agent.agent_id,
            instructions="Answer in one sentence.",
            tool_config=[{"type": "GetDateTool"}],
            execution_config={"max_actions": 2},
        )


def stringify(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def scan_database(served: Served, secrets: list[str]) -> list[str]:
    """Every value of every column of every table, as text."""
    findings: list[str] = []

    def check(table: str, rows: list[tuple[Any, ...]], columns: list[str]) -> None:
        for row in rows:
            for column, value in zip(columns, row, strict=True):
                text = stringify(value)
                findings.extend(
                    f"database: {table}.{column} holds token {s[:8]}..."
                    for s in secrets
                    if s in text
                )

    if served.database_url is None:
        path = served.data_dir / "moderately.db"
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = [
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            assert "api_tokens" in tables and "idempotency_records" in tables
            for table in tables:
                cursor = db.execute(f'SELECT * FROM "{table}"')
                check(table, cursor.fetchall(), [d[0] for d in cursor.description])
        return findings
    libpq = re.sub(r"^postgresql\+\w+://", "postgresql://", served.database_url)
    with psycopg.connect(libpq) as db:
        tables = [
            f"{schema}.{name}"
            for schema, name in db.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' "
                "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall()
        ]
        assert "public.api_tokens" in tables and "public.idempotency_records" in tables
        for table in tables:
            schema, name = table.split(".")
            cursor = db.execute(f'SELECT * FROM "{schema}"."{name}"')  # type: ignore[arg-type]
            check(table, cursor.fetchall(), [d.name for d in cursor.description or []])
    return findings


def scan_store(served: Served, secrets: list[str]) -> list[str]:
    """Every object the server stored (the local store's whole directory, or the bucket
    prefix on S3)."""
    wanted = [s.encode() for s in secrets]
    stored: list[tuple[str, bytes]] = []
    if served.s3 is None:
        root = served.data_dir / "objects"
        stored = [
            (str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*") if p.is_file()
        ]
    else:
        client = botocore.session.get_session().create_client(
            "s3",
            endpoint_url=served.s3.endpoint_url,
            region_name=served.s3.region,
            aws_access_key_id=served.s3.access_key,
            aws_secret_access_key=served.s3.secret_key,
        )
        try:
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=served.bucket, Prefix=f"{served.prefix}/"
            )
            for page in pages:
                for item in page.get("Contents", []):
                    body = client.get_object(Bucket=served.bucket, Key=item["Key"])["Body"]
                    stored.append((item["Key"], body.read()))
        finally:
            client.close()
    assert stored, "the workflow stored no object"
    return [
        f"store: {key} holds token {secret[:8].decode()}..."
        for key, data in stored
        for secret in wanted
        if secret in data
    ]
