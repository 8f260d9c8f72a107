"""An object store that fails: the API answers 503 (retry) and keeps its rows consistent."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from api_helpers import Account, assert_error
from botocore.exceptions import ClientError, EndpointConnectionError
from fastapi import FastAPI
from sqlalchemy import select

from moderately.app import create_app
from moderately.config import Settings
from moderately.db.models import ObjectRemoval
from moderately.db.session import Database
from moderately.services import files as files_service
from moderately.services import object_removals
from moderately.services.files import Storage
from moderately.storage import ObjectStore, StoreUnavailable
from moderately.storage.s3 import _transient_as_unavailable

pytestmark = pytest.mark.anyio

A_SHA256 = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"  # of b"a"


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def removal_of(database: Database, target: str) -> ObjectRemoval | None:
    async with database.session(write=False) as session:
        found: ObjectRemoval | None = await session.scalar(
            select(ObjectRemoval).where(ObjectRemoval.target == target)
        )
        return found


@pytest.fixture(scope="module")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """This module's own app (no workers), whose periodic sweep runs once at start and then
    waits an hour: the tests run the sweep themselves, with a failing store or not."""
    quiet = settings.model_copy(update={"upload_sweep_interval_seconds": 3600, "workers": 0})
    application = create_app(quiet)
    async with application.router.lifespan_context(application):
        yield application


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
    body = {"fileSize": 1, "fileHash": A_SHA256}
    with failing(app, "delete", "commit"):
        response = await alice.client.post(f"/files/{file_id}/complete", json=body)
        assert_error(response, 503, "SERVICE_UNAVAILABLE")
        assert response.headers["retry-after"] == "1"
    # nothing changed: the file is still there, still pending, and completes once the store is back
    assert (await alice.client.get(f"/files/{file_id}")).json()["uploadStatus"] == "pending"
    done = await alice.client.post(f"/files/{file_id}/complete", json=body)
    assert done.status_code == 200, done.text


async def test_a_delete_outlives_an_unreachable_store(app: FastAPI, alice: Account) -> None:
    """The row goes at once; its bytes wait in object_removals until the store is back."""
    ticket = (
        await alice.client.post("/files/upload-url", json={"fileName": "a", "fileSize": 1})
    ).json()
    file_id = ticket["file"]["fileId"]
    assert (await alice.client.put(ticket["uploadUrl"], content=b"a")).status_code == 200
    body = {"fileSize": 1, "fileHash": A_SHA256}
    assert (await alice.client.post(f"/files/{file_id}/complete", json=body)).status_code == 200
    storage: Storage = app.state.storage
    key = f"teams/{alice.team_id}/files/{file_id}"
    with failing(app, "delete"):
        response = await alice.client.delete(f"/files/{file_id}")
        assert response.status_code == 204, response.text
    assert_error(await alice.client.get(f"/files/{file_id}"), 404)
    assert await storage.store.exists(key)  # the store was down: the bytes are still there
    database: Database = app.state.database
    owed = await removal_of(database, key)
    assert owed is not None and owed.attempts == 1  # the request's own try failed
    with failing(app, "delete"):  # still down: the sweep keeps the debt and counts the attempt
        await object_removals.drain(database, app.state.storage)
    owed = await removal_of(database, key)
    assert owed is not None and owed.attempts == 2
    assert "connection refused" in (owed.last_error or "")
    await object_removals.drain(database, storage)  # back: the periodic sweep pays it
    assert not await storage.store.exists(key)
    assert await removal_of(database, key) is None


async def test_a_deletion_that_rolls_back_removes_nothing(app: FastAPI, alice: Account) -> None:
    storage: Storage = app.state.storage
    key = f"teams/{alice.team_id}/files/kept"
    await storage.store.put(key, _one(b"kept"))
    database: Database = app.state.database
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            await object_removals.schedule(session, [key])
            raise RuntimeError("the deleting request failed before it committed")
    await object_removals.drain(database, storage)
    assert await storage.store.exists(key)
    await storage.store.delete(key)


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
