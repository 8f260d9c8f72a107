"""App-level behaviour: a busy or lost database answers 503 with Retry-After; mount prefix."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from api_helpers import POSTGRES_ADMIN_URL, assert_error, client_for

from moderately.app import create_app
from moderately.config import Settings
from moderately.db.session import Database
from moderately.services import agents as agents_service
from moderately.services import operator
from moderately.testing import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        database: Database = app.state.database
        async with database.session() as session:
            issued = await operator.bootstrap(session)
        assert issued is not None
        async with client_for(app, issued.api_key) as client:
            yield client


async def test_sqlite_busy_is_503(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sqlite_busy_timeout_ms=50)
    async with started(settings) as client:
        assert (await client.post("/agents", json={"name": "before"})).status_code == 201
        blocker = sqlite3.connect(tmp_path / "moderately.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        try:
            response = await client.post("/agents", json={"name": "during"})
            assert_error(response, 503, "SERVICE_UNAVAILABLE")
            assert response.headers["retry-after"] == "1"
            assert response.headers["x-should-retry"] == "true"
            # readers are not blocked in WAL mode
            assert (await client.get("/agents")).status_code == 200
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert (await client.post("/agents", json={"name": "during"})).status_code == 201


async def test_lost_postgres_is_503(tmp_path: Path) -> None:
    url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        async with started(Settings(data_dir=tmp_path, database_url=url)) as client:
            assert (await client.get("/agents")).status_code == 200
            drop_postgres_database(url)  # terminates our connections too
            for method, path in (("GET", "/agents"), ("POST", "/teams")):
                response = await client.request(method, path, json={"name": "x"})
                assert_error(response, 503, "SERVICE_UNAVAILABLE")
                assert response.headers["retry-after"] == "1"
    finally:
        drop_postgres_database(url)


async def test_mount_prefix(tmp_path: Path) -> None:
    async with started(Settings(data_dir=tmp_path, mount_prefix="api/")) as client:
        assert (await client.get("/api/health")).status_code == 200
        assert (await client.get("/api/agents", params={"page_size": 1})).status_code == 200
        assert "/api/agents" in (await client.get("/api/openapi.json")).json()["paths"]
        assert_error(await client.get("/agents"), 404)


async def test_unexpected_error_is_a_500_envelope(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(agents_service, "get_agent", explode)
    app = create_app(Settings(data_dir=tmp_path))
    async with app.router.lifespan_context(app):
        database: Database = app.state.database
        async with database.session() as session:
            issued = await operator.bootstrap(session)
        assert issued is not None
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        headers = {"Authorization": f"Bearer {issued.api_key}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            response = await client.get("/agents/some-id")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert "boom" not in response.text  # no internals leak
    assert body["error"]["path"] == "/agents/some-id"
