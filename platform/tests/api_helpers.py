"""Helpers shared by the API tests (kept out of conftest.py so that tests can import them)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

POSTGRES_ADMIN_URL = os.environ.get(
    "MODERATELY_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres"
)
_counter = itertools.count()


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


def client_for(app: FastAPI, api_key: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
    )


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """The envelope of api.md 3.2, with top-level details on 400 only."""
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
