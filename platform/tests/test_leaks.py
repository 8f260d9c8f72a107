"""What the server tells about its failures, and what its log lines hold.

Responses: a missing object, a failing object store, a database error and a crashing block are
answered without the object's key, a path on the server, SQL or the exception's text; a 500
carries only a generic message and the request id, and the log record with the detail carries
the same id. Logs: storage URL signatures (the local store's path tokens, S3's presigned query),
API token secrets and bearer credentials are redacted in every record, uvicorn's access log
included (moderately/logredact.py). test_secret_scan.py checks a whole live run.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import duckdb
import httpx
import psycopg
import pytest
from api_helpers import POSTGRES_ADMIN_URL, Account, assert_error, client_for
from block_plugins import RAISE, RAISED_TEXT
from fastapi import FastAPI
from files_helpers import sha
from pipelines_helpers import graph, start_configuration, wait_terminal
from uvicorn.logging import AccessFormatter

from moderately import logredact
from moderately.app import create_app
from moderately.config import Settings
from moderately.db.models import File
from moderately.services import operator
from moderately.services.auth import generate_token
from moderately.services.transfers import Storage
from moderately.storage import (
    IntegrityError,
    InvalidKey,
    LocalStore,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StoreUnavailable,
)
from moderately.storage.s3 import S3Store
from moderately.tabular import _duck
from moderately.testing import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.anyio

# What no response body may hold, whatever failed.
NEVER_SHOWN = ("Traceback", "[SQL", "SELECT ", 'File "/', "/srv/", "/tmp/")


def assert_tells_nothing(response: httpx.Response, *hidden: str) -> None:
    for fragment in (*NEVER_SHOWN, *hidden):
        assert fragment not in response.text, (fragment, response.text)


# ---- log redaction ---------------------------------------------------------------------------


async def test_storage_urls_tokens_and_bearers_are_redacted(tmp_path: Path) -> None:
    local = LocalStore(tmp_path, signing_secret="s" * 32, public_url="http://127.0.0.1:8000")
    base = "http://127.0.0.1:8000/_storage"  # where the API serves them (services/transfers.py)
    upload = await local.presign(
        "PUT", "teams/t/files/f", expires_in=60, content_length=3, base_url=f"{base}/upload"
    )
    download = await local.presign(
        "GET", "teams/t/files/f", expires_in=60, base_url=f"{base}/download"
    )
    for url, route in ((upload.url, "upload"), (download.url, "download")):
        token = urlsplit(url).path.rsplit("/", 1)[1]
        line = f'127.0.0.1:5555 - "PUT {urlsplit(url).path} HTTP/1.1" 200'
        assert logredact.redact(line) == (
            f'127.0.0.1:5555 - "PUT /_storage/{route}/<redacted> HTTP/1.1" 200'
        )
        assert token not in logredact.redact(url)

    s3 = S3Store(
        "bucket",
        endpoint_url="http://127.0.0.1:9",
        region="us-east-1",
        access_key="AKIDLEAKTEST",
        secret_key="k" * 40,
        session_token="FwoGZXIvYXdzEXAMPLESESSION",
    )
    try:
        signed = (await s3.presign("GET", "teams/t/files/f", expires_in=60)).url
    finally:
        await s3.aclose()
    query = parse_qs(urlsplit(signed).query)
    hidden = [
        query["X-Amz-Signature"][0],
        query["X-Amz-Credential"][0],
        query["X-Amz-Security-Token"][0],
    ]
    for text in (signed, quote(signed, safe=""), f"Client error '403' for url '{signed}'"):
        cleaned = logredact.redact(text)
        assert not [secret for secret in hidden if secret in cleaned], cleaned
        assert "X-Amz-Date" in cleaned and "files" in cleaned  # the rest is still there
    assert "X-Amz-Signature=<redacted>" in logredact.redact(signed)

    secret = generate_token()
    for text in (
        f"Authorization: Bearer {secret}",
        f"token {secret} was used",
        "Authorization: Bearer opaque-credential",
        "GET /v1beta/models?key=AIzaLeaky&alt=sse",
    ):
        cleaned = logredact.redact(text)
        assert secret not in cleaned and "opaque-credential" not in cleaned, cleaned
        assert "AIzaLeaky" not in cleaned
        assert logredact.redact(cleaned) == cleaned  # idempotent
    # Ordinary lines, and a token's display prefix (4 characters, shown in listings), are kept.
    for text in ("GET /files?pageSize=5&orderBy=fileName HTTP/1.1", "token mai_AbCd (laptop)"):
        assert logredact.redact(text) == text


def records_of(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == name]


def test_records_are_redacted_when_made(caplog: pytest.LogCaptureFixture) -> None:
    """Arguments, a pattern split between format and argument (botocore's DEBUG 'Signature:'),
    and exception text (httpx names the URL) all pass through the record factory."""
    logredact.install()
    logredact.install()  # twice is once
    log = logging.getLogger("moderately.tests.leaks")
    secret = generate_token()
    url = "http://127.0.0.1:8000/_storage/download/eyJrZXkiOiJ0In0.c2lnbmF0dXJl"
    signature = "0f" * 32
    with caplog.at_level(logging.DEBUG, logger="moderately.tests.leaks"):
        log.info("fetching %s for %s", url, secret)
        log.debug("Signature:\n%s", signature)
        log.warning("headers: %r", {"Authorization": f"Bearer {secret}"})
        try:
            httpx.Response(403, request=httpx.Request("GET", url)).raise_for_status()
        except httpx.HTTPStatusError:
            log.exception("download failed")
    formatter = logging.Formatter("%(levelname)s %(message)s")
    lines = "\n".join(formatter.format(r) for r in records_of(caplog, log.name))
    assert "download failed" in lines and "HTTPStatusError" in lines  # the detail is logged
    assert "/_storage/download/<redacted>" in lines
    for hidden in (secret, "eyJrZXkiOiJ0In0", signature):
        assert hidden not in lines
        assert hidden not in caplog.text


def test_the_access_log_keeps_its_format(caplog: pytest.LogCaptureFixture) -> None:
    """uvicorn's access formatter unpacks the request line from the record's arguments: they
    are redacted one by one and stay a tuple."""
    logredact.install()
    access = logging.getLogger("uvicorn.access")
    path = "/_storage/upload/eyJrZXkiOiJ0In0.c2lnbmF0dXJl?X-Amz-Signature=abcdef0123456789"
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5555", "PUT", path, "1.1", 200)
    (record,) = records_of(caplog, "uvicorn.access")
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert line == (
        '127.0.0.1:5555 - "PUT /_storage/upload/<redacted>?X-Amz-Signature=<redacted> '
        'HTTP/1.1" 200 OK'
    )


def test_a_duckdb_message_loses_the_file_path(tmp_path: Path) -> None:
    missing = tmp_path / "data.csv"
    with pytest.raises(duckdb.Error) as caught:
        duckdb.connect().execute(f"SELECT * FROM read_csv('{missing}')")
    assert str(tmp_path) in str(caught.value)  # DuckDB names it...
    described = _duck.describe(caught.value)
    assert str(tmp_path) not in described and described  # ...users are not told


# ---- error responses -------------------------------------------------------------------------


async def storage_key_of(app: FastAPI, file_id: str) -> str:
    async with app.state.database.session(write=False) as session:
        file = await session.get(File, file_id)
        assert file is not None
        return file.storage_key


async def test_a_deleted_object_is_a_404_without_its_key(app: FastAPI, alice: Account) -> None:
    data = b"gone soon"
    ticket = (
        await alice.client.post(
            "/files/upload-url",
            json={"fileName": "a.txt", "fileSize": len(data), "fileHash": sha(data)},
        )
    ).json()
    file_id = ticket["file"]["fileId"]
    assert (await alice.client.put(ticket["uploadUrl"], content=data)).status_code == 200
    done = await alice.client.post(
        f"/files/{file_id}/complete", json={"fileSize": len(data), "fileHash": sha(data)}
    )
    assert done.status_code == 200, done.text
    url = (await alice.client.get(f"/files/{file_id}/download")).json()["downloadUrl"]
    key = await storage_key_of(app, file_id)
    await app.state.storage.store.delete(key)  # the bytes vanish behind the API's back
    response = await alice.client.get(url)
    assert_error(response, 404, "NOT_FOUND")
    assert_tells_nothing(response, key, f"teams/{alice.team_id}")


class Raising:
    """Delegates to the real store, but `commit` raises the exception it is given."""

    def __init__(self, store: ObjectStore, error: Exception) -> None:
        self._store = store
        self._error = error

    def __getattr__(self, name: str) -> Any:
        if name == "commit":

            async def commit(*args: Any, **kwargs: Any) -> Any:
                raise self._error

            return commit
        return getattr(self._store, name)


@contextmanager
def store_raising(app: FastAPI, error: Exception) -> Iterator[None]:
    storage: Storage = app.state.storage
    app.state.storage = dataclasses.replace(storage, store=Raising(storage.store, error))
    try:
        yield
    finally:
        app.state.storage = storage


async def test_storage_failures_name_no_key(app: FastAPI, alice: Account) -> None:
    """Each storage error's own text names the key (or the endpoint, for an outage); the client
    gets the status and a message of its own."""
    key = "teams/t-secret/files/f-secret"
    endpoint = "http://10.9.8.7:8333/moderately/teams/t-secret/files/f-secret"
    cases: list[tuple[Exception, int]] = [
        (ObjectNotFound(key), 400),  # "no bytes were uploaded": the row stays pending
        (IntegrityError(key, "stored size 2 differs from the declared 1"), 400),
        (InvalidKey(f"object key {key!r} has an empty segment"), 400),
        (StoreUnavailable(f"object store unreachable: Could not connect to {endpoint}"), 503),
        (StorageError(f"cannot use bucket 'moderately': AccessDenied on {key}"), 500),
    ]
    for error, status in cases:
        data = b"x"
        ticket = (
            await alice.client.post(
                "/files/upload-url",
                json={"fileName": "x.txt", "fileSize": 1, "fileHash": sha(data)},
            )
        ).json()
        assert (await alice.client.put(ticket["uploadUrl"], content=data)).status_code == 200
        with store_raising(app, error):
            response = await alice.client.post(
                f"/files/{ticket['file']['fileId']}/complete",
                json={"fileSize": 1, "fileHash": sha(data)},
            )
        assert response.status_code == status, response.text
        assert_tells_nothing(response, key, "t-secret", "10.9.8.7", "AccessDenied")
        if status == 500:
            request_id = response.headers["x-request-id"]
            assert response.json()["error"]["requestId"] == request_id
            assert request_id in response.json()["message"]


@asynccontextmanager
async def own_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with app.state.database.session() as session:
            issued = await operator.bootstrap(session)
        assert issued is not None
        async with client_for(app, issued.api_key) as client:
            yield app, client


@pytest.fixture(params=["sqlite", "postgresql"])
def own_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path, workers=0)
        return
    url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        yield Settings(data_dir=tmp_path, database_url=url, workers=0)
    finally:
        drop_postgres_database(url)


def rename_table(settings: Settings, old: str, new: str) -> None:
    """Pull a table from under the running server (a real database error, not a mock)."""
    statement = f"ALTER TABLE {old} RENAME TO {new}"
    if settings.database_url is None:
        with sqlite3.connect(settings.data_dir / "moderately.db") as connection:
            connection.execute(statement)
        return
    libpq = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


async def test_a_database_error_is_a_500_with_a_request_id_only(
    own_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with own_app(own_settings) as (_, client):
        assert (await client.get("/agents")).status_code == 200
        rename_table(own_settings, "agents", "agents_moved_away")
        with caplog.at_level(logging.ERROR, logger="moderately.api"):
            response = await client.get("/agents")
    assert_error(response, 500, "INTERNAL_ERROR")
    request_id = response.headers["x-request-id"]
    body = response.json()
    assert body["error"]["requestId"] == request_id and request_id in body["message"]
    assert_tells_nothing(
        response, "agents_moved_away", "no such table", "does not exist", "sqlalchemy", "Error:"
    )
    # The operator finds the detail under the id the client was given.
    (record,) = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    logged = logging.Formatter().format(record)
    assert request_id in record.getMessage()
    assert "agents" in logged and ("no such table" in logged or "does not exist" in logged)


async def test_a_crashing_block_fails_naming_the_block_not_the_exception(
    alice: Account,
) -> None:
    configuration = graph(
        {
            "in": ("input", {"json_schema": {"type": "string"}}),
            "work": (RAISE, {}),
            "out": ("output", {"name": "result"}),
        },
        [("in", "data", "work", "data"), ("work", "data", "out", "data")],
    )
    execution_id = await start_configuration(alice.client, configuration, {"in": "x"}, "leaky")
    execution = await wait_terminal(alice.client, execution_id, timeout=60)
    progress = execution["progressData"]
    assert execution["status"] == "failed" and progress["error_type"] == "internal_error"
    assert (
        "Block 'work' (test_raise) failed: an internal error (RuntimeError)" in (progress["error"])
    )
    for path in (f"/pipeline-executions/{execution_id}", "/pipeline-executions"):
        response = await alice.client.get(path)
        assert response.status_code == 200
        assert_tells_nothing(response, RAISED_TEXT, "token_hash", "/srv/moderately")


async def test_an_unknown_route_and_a_bad_id_say_only_not_found(alice: Account) -> None:
    for path in ("/files/no-such-file", "/files/no-such-file/download", "/nowhere"):
        response = await alice.client.get(path)
        assert_error(response, 404, "NOT_FOUND")
        assert_tells_nothing(response, "teams/")
