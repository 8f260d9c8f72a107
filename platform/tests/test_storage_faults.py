"""An object store that fails: the API answers 503 (retry) and keeps its rows consistent."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from api_helpers import Account, assert_error
from botocore.exceptions import ClientError, EndpointConnectionError
from fastapi import FastAPI

from moderately.app import create_app
from moderately.config import Settings
from moderately.db.session import Database
from moderately.services import files as files_service
from moderately.services.files import Storage
from moderately.storage import ObjectStore, StoreUnavailable
from moderately.storage.s3 import _transient_as_unavailable

pytestmark = pytest.mark.anyio


class Failing:
    """Delegates to a real store, but the named operations raise StoreUnavailable."""

    def __init__(self, store: ObjectStore, *failing: str) -> None:
        self._store = store
        self._failing = set(failing)

    def __getattr__(self, name: str) -> Any:
        if name in self._failing:

            async def fail(*args: Any, **kwargs: Any) -> Any:
                raise StoreUnavailable(f"{name}: connection refused")

            return fail
        return getattr(self._store, name)


@contextmanager
def failing(app: FastAPI, *operations: str) -> Iterator[None]:
    storage: Storage = app.state.storage
    app.state.storage = dataclasses.replace(storage, store=Failing(storage.store, *operations))
    try:
        yield
    finally:
        app.state.storage = storage


async def test_an_unreachable_store_is_503(app: FastAPI, alice: Account) -> None:
    ticket = (
        await alice.client.post("/files/upload-url", json={"fileName": "a", "fileSize": 1})
    ).json()
    file_id = ticket["file"]["fileId"]
    assert (await alice.client.put(ticket["uploadUrl"], content=b"a")).status_code == 200
    body = {
        "fileSize": 1,
        "fileHash": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
    }
    with failing(app, "delete", "commit"):
        for response in (
            await alice.client.post(f"/files/{file_id}/complete", json=body),
            await alice.client.delete(f"/files/{file_id}"),
        ):
            assert_error(response, 503, "SERVICE_UNAVAILABLE")
            assert response.headers["retry-after"] == "1"
    # nothing changed: the file is still there, still pending, and completes once the store is back
    assert (await alice.client.get(f"/files/{file_id}")).json()["uploadStatus"] == "pending"
    done = await alice.client.post(f"/files/{file_id}/complete", json=body)
    assert done.status_code == 200, done.text


def test_transient_s3_failures_become_store_unavailable() -> None:
    def refused(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    def slow_down(**_: Any) -> None:
        error = {"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}}
        raise ClientError(error, "PutObject")  # type: ignore[arg-type]

    def denied(**_: Any) -> None:
        error = {"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
        raise ClientError(error, "PutObject")  # type: ignore[arg-type]

    for transient in (refused, slow_down):
        with pytest.raises(StoreUnavailable):
            _transient_as_unavailable(transient)
    with pytest.raises(ClientError):
        _transient_as_unavailable(denied)


async def test_the_app_expires_pending_uploads_periodically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lifespan runs the cleanup every `upload_sweep_interval_seconds`, and survives a
    failing round; what a round does is tested in test_files.py with an injected clock."""
    rounds: list[Storage] = []
    app = create_app(Settings(data_dir=tmp_path, upload_sweep_interval_seconds=0.02))

    async def expire(database: Database, storage: Storage, **_: Any) -> int:
        if database is not app.state.database:
            return 0  # another app in this process (a live server) sweeping on its own schedule
        rounds.append(storage)
        if len(rounds) == 1:
            raise StoreUnavailable("first round fails")
        return 0

    monkeypatch.setattr(files_service, "expire_pending_uploads", expire)
    async with app.router.lifespan_context(app):
        for _ in range(100):
            if len(rounds) >= 3:
                break
            await asyncio.sleep(0.01)
        assert len(rounds) >= 3
        assert all(storage is app.state.storage for storage in rounds)
