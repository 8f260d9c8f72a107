"""Helpers shared by the API tests (kept out of conftest.py so that tests can import them)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from moderately.services import operator
from moderately.testing import create_postgres_database, drop_postgres_database

POSTGRES_ADMIN_URL = os.environ.get(
    "MODERATELY_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres"
)
_counter = itertools.count()
TERMINAL = ("completed", "failed", "cancelled")


@dataclass
class Account:
    api_key: str
    team_id: str
    user_id: str
    email: str
    client: httpx.AsyncClient


MakeAccount = Callable[..., Awaitable[Account]]


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}-{os.getpid()}@example.com"


@contextlib.contextmanager
def empty_database(
    dialect: str, tmp_path_factory: pytest.TempPathFactory, name: str
) -> Iterator[str]:
    """The URL of a new empty database: a SQLite file in a new folder `name`, or a PostgreSQL
    database, dropped afterwards."""
    if dialect == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp(name) / 'moderately.db'}"
        return
    url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        yield url
    finally:
        drop_postgres_database(url)


async def new_account(
    app: FastAPI,
    *,
    email: str | None = None,
    team_id: str | None = None,
    team_name: str | None = None,
) -> Account:
    """A user with an API key made by the operator's service: admin of a new team, or a
    member of `team_id`; its client (the caller closes it) talks to `app`."""
    email = email or unique_email()
    async with app.state.database.session() as session:
        issued = await operator.create_user_with_token(
            session, email=email, team_id=team_id, team_name=team_name
        )
    return Account(
        issued.api_key, issued.team_id, issued.user_id, email, client_for(app, issued.api_key)
    )


async def account_in(
    app: FastAPI, account: Account, team_id: str, role: str | None = None
) -> Account:
    """The same user with a token for another team it belongs to (tokens are team-bound), as
    the operator's `moderately admin create-token` issues it."""
    async with app.state.database.session() as session:
        issued = await operator.create_member_token(
            session, email=account.email, team_id=team_id, role=role
        )
    return Account(
        issued.api_key, team_id, account.user_id, account.email, client_for(app, issued.api_key)
    )


def client_for(app: FastAPI, api_key: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
    )


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """The error envelope (docs/reference/api.md, Conventions), top-level details on 400 only."""
    assert response.status_code == status, response.text
    body = response.json()
    error = body["error"]
    assert error["message"] and error["timestamp"].endswith("Z")
    assert error["requestId"] == response.headers["x-request-id"]
    assert body["message"] == error["message"] and body["code"] == error["code"]
    if code is not None:
        assert body["code"] == code
    if status == 400:
        assert isinstance(body["details"], list)
    else:
        assert "details" not in body
    # X-Should-Retry: transient failures say "true", final conflicts "false" (the SDK obeys).
    hint = response.headers.get("x-should-retry")
    if status in (429, 503) or body["code"] == "IDEMPOTENCY_KEY_IN_USE":
        assert hint == "true"
    elif status == 409 or response.headers.get("idempotent-replayed") == "true":
        assert hint == "false"
    else:
        assert hint is None
    return body


async def wait_for_status(
    client: Any, path: str, statuses: Collection[str] = TERMINAL, timeout: float = 30.0
) -> dict[str, Any]:
    """Poll GET `path` (an execution) until its status is one of `statuses`; `timeout` is only
    a hang guard."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(path)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)
