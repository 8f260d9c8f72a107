"""Shared fixtures: one app per database (SQLite and PostgreSQL), accounts made by services."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from api_helpers import POSTGRES_ADMIN_URL, Account, MakeAccount, client_for, unique_email
from fastapi import FastAPI
from live_servers import live_server, seaweedfs  # noqa: F401  (shared with tests/storage)
from llm_server import llm_server  # noqa: F401  (the loopback LLM provider, per-test reset)
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.app import create_app
from moderately.config import Settings
from moderately.db.session import Database
from moderately.services import operator
from moderately.testing import create_postgres_database, drop_postgres_database

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
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'moderately.db'}"
        return
    url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        yield url
    finally:
        drop_postgres_database(url)


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
    database: Database = app.state.database

    async def make(
        *, team_id: str | None = None, team_name: str | None = None, email: str | None = None
    ) -> Account:
        email = email or unique_email()

        async def work(session: AsyncSession) -> operator.IssuedCredentials:
            return await operator.create_user_with_token(
                session, email=email, team_id=team_id, team_name=team_name
            )

        async with database.session() as session:
            issued = await work(session)
        client = client_for(app, issued.api_key)
        clients.append(client)
        return Account(issued.api_key, issued.team_id, issued.user_id, email, client)

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
