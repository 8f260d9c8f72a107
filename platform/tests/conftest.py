"""Shared fixtures: one app per database (SQLite and PostgreSQL), accounts made by services."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from api_helpers import Account, MakeAccount, client_for, empty_database, new_account
from fastapi import FastAPI
from live_servers import live_server, seaweedfs  # noqa: F401  (shared with tests/storage)
from llm_server import llm_server  # noqa: F401  (the loopback LLM provider, per-test reset)

from moderately.app import create_app
from moderately.config import Settings
from moderately.db.session import Database

# Jobs run in worker processes (and each in a process of its own): they load the tests' own
# block types (block_plugins.py) from this folder, as the API in this process does.
_TESTS = str(Path(__file__).parent)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (_TESTS, os.environ.get("PYTHONPATH", "")) if p
)
os.environ["MODERATELY_JOB_MODULES"] = "block_plugins"
# Every test server's workers would load the LLM clients and the agent runtime in their
# forkservers (seconds of CPU each on start); the agent-run tests turn it back on.
os.environ["MODERATELY_JOB_PRELOAD_AI"] = "false"
import block_plugins  # noqa: E402, F401


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh empty database per dialect, shared by the session's API tests."""
    with empty_database(request.param, tmp_path_factory, "sqlite") as url:
        yield url


@pytest.fixture(scope="session")
def settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"), database_url=db_url)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):  # migrations run here
        yield application


@pytest.fixture
def database(app: FastAPI) -> Database:
    db: Database = app.state.database
    return db


@pytest.fixture
async def make_account(app: FastAPI) -> AsyncIterator[MakeAccount]:
    """`await make_account()` gives a user admin of a new team; `team_id=` adds a member."""
    clients: list[httpx.AsyncClient] = []

    async def make(
        *, team_id: str | None = None, team_name: str | None = None, email: str | None = None
    ) -> Account:
        account = await new_account(app, email=email, team_id=team_id, team_name=team_name)
        clients.append(account.client)
        return account

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def alice(make_account: MakeAccount) -> Account:
    return await make_account()


@pytest.fixture
async def bob(make_account: MakeAccount) -> Account:
    """Another user in another team: the one who must never see alice's things."""
    return await make_account()


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, None) as client:
        yield client
