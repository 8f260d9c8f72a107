"""Fixtures for the storage suite: one `store` fixture parametrized over local disk and S3.

The local store is served by a tiny Starlette app in uvicorn on a loopback port, built from the
same `receive`/`serve` calls the real storage routes will make; S3 is a real SeaweedFS, started
once per session and only when an S3 test runs (the `seaweedfs` fixture of tests/live_servers.py,
which tests/conftest.py shares with every test).
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import anyio
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from storage_helpers import PART_SIZE

from moderately.storage import (
    LocalStore,
    ObjectStore,
    S3Store,
    StorageError,
    response_headers,
    store_from_url,
)
from moderately.testing_s3 import S3Endpoint

SECRET = "storage-tests-secret-0123456789"
BUCKET = "moderately-tests"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def storage_app(store: LocalStore) -> Starlette:
    """The local store's presigned URLs, served the way the API's storage router will."""

    async def transfer(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            if request.method == "PUT":
                length = request.headers.get("content-length")
                await store.receive(
                    token,
                    request.stream(),
                    content_type=request.headers.get("content-type"),
                    content_length=int(length) if length is not None else None,
                )
                return Response(status_code=200)
            reader = await store.serve(token)
            return StreamingResponse(reader, headers=response_headers(reader.info))
        except StorageError as exc:
            return JSONResponse({"error": {"message": str(exc)}}, status_code=exc.http_status)

    return Starlette(routes=[Route("/_storage/{token}", transfer, methods=["GET", "PUT"])])


@pytest.fixture(scope="session")
def local_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStore]:
    store = LocalStore(tmp_path_factory.mktemp("local-store"), signing_secret=SECRET, fsync=False)
    anyio.run(store.setup)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    store.public_url = f"http://127.0.0.1:{sock.getsockname()[1]}/_storage"
    server = uvicorn.Server(uvicorn.Config(storage_app(store), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield store
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="session")
def s3_store(seaweedfs: S3Endpoint) -> Iterator[S3Store]:
    store = store_from_url(seaweedfs.storage_url(BUCKET), env=seaweedfs.env())
    assert isinstance(store, S3Store)
    store.part_size = PART_SIZE
    anyio.run(store.setup)  # creates the bucket
    yield store
    anyio.run(store.aclose)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    """Each test that takes `store` runs once per store; SeaweedFS starts on first need."""
    value: ObjectStore = request.getfixturevalue(f"{request.param}_store")
    return value


@pytest.fixture
def key() -> str:
    """A fresh key per test: the stores are shared by the whole session."""
    return f"tests/{uuid.uuid4().hex}/object"
