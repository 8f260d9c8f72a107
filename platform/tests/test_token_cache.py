"""The token cache (services/token_cache.py): a request's credentials from memory, dropped at once
by a revocation in this process and within a poll in every other process on the database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_helpers import Account, MakeAccount, account_in, assert_error, client_for
from fastapi import FastAPI
from sqlalchemy import event, select, update

from moderately.app import create_app
from moderately.config import Settings
from moderately.db.models import ApiToken, AuthGeneration
from moderately.db.session import Database
from moderately.services.auth import Principal, hash_token
from moderately.services.token_cache import AUTH, MAX_ENTRIES, TokenCache

pytestmark = pytest.mark.anyio

PRINCIPAL = Principal(
    user_id="u", token_id="t", team_id="team", token_role="admin", member_role="member"
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# ---- the cache itself, on a made-up clock ----


def test_entries_live_ttl_seconds_and_never_past_the_token_expiry() -> None:
    clock = Clock()
    cache = TokenCache(10, clock=clock)
    cache.put("h", PRINCIPAL, expires_at=None, generation=0)
    clock.now += 9.9
    assert cache.get("h") == PRINCIPAL
    clock.now += 0.1
    assert cache.get("h") is None and len(cache) == 0

    cache.put("h", PRINCIPAL, expires_at=datetime.now(UTC) - timedelta(seconds=1), generation=0)
    assert cache.get("h") is None


def test_each_get_gives_a_principal_with_its_own_checks() -> None:
    cache = TokenCache(10)
    cache.put("h", PRINCIPAL, expires_at=None, generation=0)
    first = cache.get("h")
    assert first is not None
    first.require_write()
    second = cache.get("h")
    assert second is not None and second.checks == [] and first.checks == [("team", "member")]


def test_a_moved_generation_drops_everything_and_refuses_older_reads() -> None:
    cache = TokenCache(10)
    cache.put("a", PRINCIPAL, expires_at=None, generation=3)
    cache.advance(3)  # the same value: nothing moved
    assert cache.get("a") is not None
    cache.advance(4)
    assert cache.get("a") is None
    # A lookup that read the token before the counter moved is not stored...
    cache.put("a", PRINCIPAL, expires_at=None, generation=3)
    assert cache.get("a") is None
    # ...one that read it after is; and one from further on moves the cache itself.
    cache.put("a", PRINCIPAL, expires_at=None, generation=4)
    cache.put("b", PRINCIPAL, expires_at=None, generation=5)
    assert cache.generation == 5 and cache.get("a") is None and cache.get("b") is not None


def test_zero_ttl_stores_nothing_and_size_is_bounded() -> None:
    off = TokenCache(0)
    off.put("h", PRINCIPAL, expires_at=None, generation=0)
    assert off.get("h") is None
    cache = TokenCache(10)
    for n in range(MAX_ENTRIES + 5):
        cache.put(f"h{n}", PRINCIPAL, expires_at=None, generation=0)
    assert len(cache) == MAX_ENTRIES and cache.get("h0") is None
    assert cache.get(f"h{MAX_ENTRIES + 4}") is not None


# ---- through the API ----


async def generation(database: Database) -> int:
    async with database.session(write=False) as session:
        value = await session.scalar(
            select(AuthGeneration.generation).where(AuthGeneration.name == AUTH)
        )
    return int(value or 0)


@contextlib.contextmanager
def token_reads(database: Database) -> Any:
    """Counts the statements that read `api_tokens` while the block runs."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM api_tokens" in statement:
            seen.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def test_a_known_token_costs_no_database_read(alice: Account, database: Database) -> None:
    assert (await alice.client.get("/agents")).status_code == 200
    with token_reads(database) as seen:
        for _ in range(3):
            assert (await alice.client.get("/agents")).status_code == 200
    assert seen == []
    assert database.tokens.get(hash_token(alice.api_key)) is not None


async def test_expiry_and_deactivation_apply_at_once(
    make_account: MakeAccount, app: FastAPI
) -> None:
    admin = await make_account()
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    for change in ({"expiresAt": past}, {"isActive": False}):
        created = (await admin.client.post("/api-tokens", json={"name": "ci"})).json()
        async with client_for(app, created["token"]) as client:
            assert (await client.get("/teams")).status_code == 200  # now cached
            path = f"/api-tokens/{created['tokenId']}"
            assert (await admin.client.patch(path, json=change)).status_code == 200
            assert_error(await client.get("/teams"), 401)


async def test_a_demoted_member_loses_admin_at_once(
    make_account: MakeAccount, app: FastAPI
) -> None:
    owner = await make_account()
    member = await make_account(team_id=owner.team_id)
    rows = (await owner.client.get("/team-users", params={"userIds": member.user_id})).json()
    membership = f"/team-users/{rows['items'][0]['teamUserId']}"
    assert (await owner.client.patch(membership, json={"role": "admin"})).status_code == 200
    other = await account_in(app, member, owner.team_id, role="admin")
    try:
        assert (await other.client.post("/api-tokens", json={"name": "x"})).status_code == 201
        assert (await owner.client.patch(membership, json={"role": "member"})).status_code == 200
        assert_error(await other.client.post("/api-tokens", json={"name": "y"}), 403)
    finally:
        await other.client.aclose()


async def test_usage_and_other_writes_leave_the_generation_alone(
    alice: Account, app: FastAPI, database: Database
) -> None:
    before = await generation(database)
    for n in range(3):
        assert (await alice.client.post("/agents", json={"name": f"g{n}"})).status_code == 201
    async with database.session() as session:
        await app.state.usage.flush(session)  # writes the tokens' last use
    assert await generation(database) == before
    assert database.tokens.get(hash_token(alice.api_key)) is not None


async def test_bulk_statements_move_the_generation(alice: Account, database: Database) -> None:
    assert (await alice.client.get("/teams")).status_code == 200
    before = await generation(database)
    async with database.session() as session:  # a bookkeeping column: no move
        await session.execute(update(ApiToken).values(last_used_at=datetime.now(UTC)))
    assert await generation(database) == before
    async with database.session() as session:  # access narrowed: moved, cache dropped
        await session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_token(alice.api_key))
            .values(is_active=False)
        )
    assert await generation(database) == before + 1
    assert database.tokens.get(hash_token(alice.api_key)) is None
    assert_error(await alice.client.get("/teams"), 401)


OtherProcess = Callable[[], AbstractAsyncContextManager[FastAPI]]


@pytest.fixture
def other_process(settings: Settings) -> OtherProcess:
    """Another API process on the session's database, polling the generation quickly."""

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[FastAPI]:
        application = create_app(
            settings.model_copy(
                update={"workers": 0, "migrate_on_startup": False, "token_cache_poll_seconds": 0.05}
            )
        )
        async with application.router.lifespan_context(application):
            yield application

    return start


async def test_another_process_drops_a_revoked_token_at_its_next_poll(
    make_account: MakeAccount, other_process: OtherProcess
) -> None:
    admin = await make_account()
    created = (await admin.client.post("/api-tokens", json={"name": "elsewhere"})).json()
    async with other_process() as other, client_for(other, created["token"]) as client:
        assert (await client.get("/teams")).status_code == 200
        assert other.state.database.tokens.get(hash_token(created["token"])) is not None
        # revoked through this process; the other one learns it from the database
        response = await admin.client.delete(f"/api-tokens/{created['tokenId']}")
        assert response.status_code == 204
        for _ in range(400):  # the poll runs every 50 ms; bounded, not timed
            if other.state.database.tokens.get(hash_token(created["token"])) is None:
                break
            await asyncio.sleep(0.05)
        assert_error(await client.get("/teams"), 401)
