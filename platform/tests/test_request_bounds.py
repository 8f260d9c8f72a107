"""Input bounds: request body size (413 before anything reads the body), request JSON shape (400
naming the bound), tabular parsing options (400 naming the field, `maximum` in the document)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import Account, assert_error, unique_email

from moderately.api import ROUTERS, storage
from moderately.api.json_bounds import (
    MAX_ARRAY_ITEMS,
    MAX_DEPTH,
    MAX_STRING_CHARS,
    BoundedJSONRoute,
    check_bounds,
)
from moderately.app import create_app
from moderately.config import Settings
from moderately.offload import OFFLOAD_BYTES
from moderately.tabular import MAX_HEADER_ROW, MAX_SKIP_ROW_LINES, MAX_SKIP_ROWS
from moderately.testing import RunningServer, run_server

MiB = 1024 * 1024
HUGE = 300 * MiB  # what the client offers; the server must stop it long before the end
CHUNK = b" " * MiB


# ---- the request body limit, over real HTTP ----


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with the default limit (32 MiB)."""
    with run_server(data_dir=tmp_path_factory.mktemp("bounds")) as running:
        yield running


class Offered:
    """A 300 MiB body, counting what the client actually got to send."""

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        while self.sent < HUGE:
            self.sent += len(CHUNK)
            yield CHUNK


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer mai_not-a-real-token", "Idempotency-Key": "big-1"}],
    ids=["anonymous", "bad-token"],
)
def test_oversized_body_is_413_before_it_is_read(
    server: RunningServer, declared: bool, headers: dict[str, str]
) -> None:
    limit = server.settings.max_request_body_bytes
    assert limit == 32 * MiB  # the default
    body = Offered()
    sent_headers = {"Content-Type": "application/json", **headers}
    if declared:
        sent_headers["Content-Length"] = str(HUGE)
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        started = time.monotonic()
        response = client.post("/agents", content=body, headers=sent_headers)
        elapsed = time.monotonic() - started
    envelope = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert str(limit) in envelope["message"]
    assert envelope["error"]["path"] == "/agents"
    assert response.headers["connection"] == "close"
    # The server cut the client off: with a Content-Length before reading anything (only what
    # the sockets buffer got out), chunked once the count passed the limit.
    if declared:
        assert body.sent < limit
    else:
        assert limit <= body.sent < 2 * limit
    assert elapsed < 30
    # And it is still serving.
    assert httpx.get(f"{server.base_url}/health").status_code == 200


def test_body_at_the_limit_is_read(server: RunningServer) -> None:
    """Up to the limit a body is read as usual: this one reaches authentication (401)."""
    padding = b" " * (server.settings.max_request_body_bytes - 20)
    content = b'{"name": "x"}' + padding
    response = httpx.post(
        f"{server.base_url}/agents",
        content=content,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert_error(response, 401, "UNAUTHORIZED")


def test_storage_uploads_keep_their_own_rule(tmp_path: Path) -> None:
    """The local store's presigned PUT takes more than the request limit (its own limit is
    max_upload_bytes and the signed size)."""
    data = b"x" * (2 * MiB)
    with run_server(data_dir=tmp_path, max_request_body_bytes=MiB) as small:
        user = small.create_user(unique_email("bounds"))
        headers = {"Authorization": f"Bearer {user.api_key}"}
        with httpx.Client(base_url=small.base_url, headers=headers, timeout=60) as client:
            digest = hashlib.sha256(data).hexdigest()
            body = {"fileName": "big.bin", "fileSize": len(data), "fileHash": digest}
            ticket = client.post("/files/upload-url", json=body)
            assert ticket.status_code == 201, ticket.text
            put = httpx.put(ticket.json()["uploadUrl"], content=data, timeout=60)
            assert put.status_code == 200, put.text
            file_id = ticket.json()["file"]["fileId"]
            done = client.post(
                f"/files/{file_id}/complete", json={"fileSize": len(data), "fileHash": digest}
            )
            assert done.status_code == 200, done.text
            # The API itself refuses the same size.
            refused = client.post("/agents", content=data, headers={"Content-Type": "text/plain"})
            assert_error(refused, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.anyio
async def test_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MODERATELY_MAX_REQUEST_BODY_BYTES", "1000")
    settings = Settings(data_dir=tmp_path)
    assert settings.max_request_body_bytes == 1000
    # No lifespan, no database: a refused body never gets that far.
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert_error(await client.post("/agents", content=b"x" * 1001), 413, "PAYLOAD_TOO_LARGE")

        async def chunks() -> Any:
            for _ in range(5):
                yield b"x" * 300

        response = await client.post("/agents", content=chunks())
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    document = app.openapi()
    assert "413" in document["paths"]["/agents"]["post"]["responses"]


# ---- the shape of request JSON ----


def nested(depth: int) -> bytes:
    return b'{"name": "deep", "x": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.anyio
async def test_json_nesting_is_bounded(alice: Account) -> None:
    headers = {"Content-Type": "application/json"}
    ok = await alice.client.post("/agents", content=nested(MAX_DEPTH - 1), headers=headers)
    assert ok.status_code == 201, ok.text
    for depth in (MAX_DEPTH, 5_000, 600_000):  # the last parses in a worker thread
        response = await alice.client.post("/agents", content=nested(depth), headers=headers)
        body = assert_error(response, 400, "VALIDATION_ERROR")
        assert f"nested more than {MAX_DEPTH} levels" in body["message"]
        assert body["details"] == [{"field": "body", "message": body["message"]}]


@pytest.mark.anyio
async def test_json_arrays_are_bounded(alice: Account) -> None:
    fits = {"name": "long-list", "x": [0] * MAX_ARRAY_ITEMS}
    assert (await alice.client.post("/agents", json=fits)).status_code == 201
    response = await alice.client.post(
        "/agents", json={"name": "too-long", "x": [[0] * (MAX_ARRAY_ITEMS + 1)]}
    )
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert f"at most {MAX_ARRAY_ITEMS}" in body["message"]
    assert body["details"][0]["field"] == "body"


@pytest.mark.anyio
async def test_json_strings_are_bounded(alice: Account) -> None:
    long = "x" * (MAX_STRING_CHARS + 1)
    for document in ({"name": "s", "x": long}, {"name": "k", long: 1}, [long]):
        body = assert_error(await alice.client.post("/agents", json=document), 400)
        assert f"at most {MAX_STRING_CHARS}" in body["message"]
    # Just large enough to be parsed in a worker thread, and accepted.
    fits = {"name": "big-but-fine", "x": "y" * (OFFLOAD_BYTES + 10)}
    assert (await alice.client.post("/agents", json=fits)).status_code == 201


@pytest.mark.anyio
async def test_json_numbers_and_malformed_bodies(alice: Account) -> None:
    headers = {"Content-Type": "application/json"}
    digits = b'{"name": "n", "x": ' + b"9" * 5000 + b"}"
    body = assert_error(await alice.client.post("/agents", content=digits, headers=headers), 400)
    assert "number" in body["message"]
    big_and_broken = b'{"name": "b", "x": "' + b"z" * (2 * OFFLOAD_BYTES)
    body = assert_error(
        await alice.client.post("/agents", content=big_and_broken, headers=headers), 400
    )
    assert body["details"][0] == {"field": "body", "message": "malformed JSON body"}


def test_check_bounds_walks_without_recursion() -> None:
    document: Any = []
    for _ in range(100_000):
        document = [document]
    with pytest.raises(Exception, match="nested more than"):
        check_bounds(document)
    check_bounds({"a": [{"b": "c" * 10}] * 1000})


def test_every_router_reads_json_within_bounds() -> None:
    for router in ROUTERS:
        if router is storage.router:  # raw bytes, never JSON
            continue
        assert router.route_class is BoundedJSONRoute, router.prefix
        assert all(isinstance(route, BoundedJSONRoute) for route in router.routes), router.prefix


# ---- tabular parsing options ----


@pytest.mark.anyio
async def test_parsing_option_bounds_are_400_naming_the_field(alice: Account) -> None:
    created = await alice.client.post("/datasets", json={"name": f"bounds-{time.time_ns()}"})
    assert created.status_code == 201, created.text
    dataset_id = created.json()["datasetId"]
    columns = [{"name": "a", "type": "string"}]
    for options, field in (
        ({"headerRow": MAX_HEADER_ROW + 1}, "headerRow"),
        ({"headerRow": 10**15}, "headerRow"),
        ({"skipRows": MAX_SKIP_ROWS + 1}, "skipRows"),
        ({"skipRows": 10**30}, "skipRows"),
        ({"skipRows": list(range(MAX_SKIP_ROW_LINES + 1))}, "skipRows"),
        ({"skip_rows": [2**40]}, "skip_rows"),
    ):
        payload = {"datasetId": dataset_id, "columns": columns, "parsingOptions": options}
        response = await alice.client.post("/dataset-schema-versions", json=payload)
        body = assert_error(response, 400, "VALIDATION_ERROR")
        assert any(field in d["field"] for d in body["details"]), (options, body)
    # At the bounds: accepted.
    options = {"headerRow": MAX_HEADER_ROW, "skipRows": MAX_SKIP_ROWS}
    payload = {"datasetId": dataset_id, "columns": columns, "parsingOptions": options}
    response = await alice.client.post("/dataset-schema-versions", json=payload)
    assert response.status_code == 201, response.text
    assert response.json()["parsingOptions"]["headerRow"] == MAX_HEADER_ROW
    # Too many columns.
    many = [{"name": f"c{i}", "type": "string"} for i in range(10_001)]
    payload = {"datasetId": dataset_id, "columns": many}
    body = assert_error(await alice.client.post("/dataset-schema-versions", json=payload), 400)
    assert body["details"][0]["field"] == "columns"


@pytest.mark.anyio
async def test_inference_options_are_bounded_before_any_work(alice: Account) -> None:
    started = time.monotonic()
    for payload, field in (
        ({"fileId": "f" * 21, "parsingOptions": {"headerRow": 40_000_000}}, "headerRow"),
        ({"fileId": "f" * 21, "parsingOptions": {"skipRows": 10**15}}, "skipRows"),
        ({"fileId": "f" * 21, "sampleRows": 10**7}, "sampleRows"),
    ):
        response = await alice.client.post("/dataset-schema-versions/infer", json=payload)
        body = assert_error(response, 400, "VALIDATION_ERROR")
        assert any(field in d["field"] for d in body["details"]), body
    assert time.monotonic() - started < 5


@pytest.mark.anyio
async def test_bounds_are_in_the_published_document(alice: Account) -> None:
    document = (await alice.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    options = schemas["ParsingOptionsIn"]["properties"]

    def maxima(prop: dict[str, Any]) -> list[Any]:
        found = []
        for branch in prop.get("anyOf", [prop]):
            if "maximum" in branch:
                found.append(branch["maximum"])
            if "items" in branch:
                found.append(("items", branch["items"].get("maximum"), branch.get("maxItems")))
        return found

    assert maxima(options["headerRow"]) == [MAX_HEADER_ROW]
    skip = maxima(options["skipRows"])
    assert MAX_SKIP_ROWS in skip
    assert any(isinstance(m, tuple) and m[2] == MAX_SKIP_ROW_LINES for m in skip)
    assert maxima(schemas["SchemaInferRequest"]["properties"]["sampleRows"]) == [1_000_000]
    assert schemas["SchemaVersionCreate"]["properties"]["columns"]["maxItems"] == 10_000
    assert json.dumps(schemas["ColumnSpec"]["properties"]["pos"]).count("maximum") == 1
