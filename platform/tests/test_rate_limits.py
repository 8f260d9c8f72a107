"""Rate limits per API token: a token bucket in the database, shared by every API process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from api_helpers import Account, assert_error, client_for, new_account
from fastapi import FastAPI
from sqlalchemy import select

from moderately.app import create_app
from moderately.config import Settings
from moderately.db.models import ApiToken, RateLimitBucket
from moderately.errors import RateLimited
from moderately.services import operator
from moderately.services.auth import hash_token
from moderately.services.rate_limits import (
    Bucket,
    BucketPolicy,
    RateLimiter,
    next_permit_at,
    refill,
    retry_after_seconds,
    take,
)
from moderately.timeutil import utcnow

pytestmark = pytest.mark.anyio

START = 1_750_000_000.0


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


LimitedApp = Callable[..., AbstractAsyncContextManager[FastAPI]]


@pytest.fixture
def limited_app(app: FastAPI, settings: Settings) -> LimitedApp:
    """`async with limited_app(per_minute, clock) as api:` another API process on the session's
    (migrated) database, with its own limiter reading `clock` (None: the wall clock)."""

    @contextlib.asynccontextmanager
    async def start(per_minute: int, clock: Clock | None = None) -> AsyncIterator[FastAPI]:
        application = create_app(
            settings.model_copy(
                update={
                    "rate_limit_per_minute": per_minute,
                    "workers": 0,
                    "migrate_on_startup": False,
                }
            )
        )
        if clock is not None:
            application.state.rate_limiter.clock = clock
        async with application.router.lifespan_context(application):
            yield application

    return start


async def token_id_of(api: FastAPI, account: Account) -> str:
    async with api.state.database.session(write=False) as session:
        token_id = await session.scalar(
            select(ApiToken.token_id).where(ApiToken.token_hash == hash_token(account.api_key))
        )
    assert token_id is not None
    return token_id


async def bucket_of(api: FastAPI, account: Account) -> RateLimitBucket | None:
    async with api.state.database.session(write=False) as session:
        return await session.get(RateLimitBucket, await token_id_of(api, account))


async def second_token(api: FastAPI, account: Account) -> str:
    """Another token of the same user in the same team."""
    async with api.state.database.session() as session:
        issued = await operator.create_member_token(
            session, email=account.email, team_id=account.team_id
        )
    return issued.api_key


async def spend_until_refused(client: httpx.AsyncClient, most: int = 1000) -> int:
    """GETs until one answers 429: how many succeeded before it."""
    for done in range(most):
        response = await client.get("/authentication/whoami")
        if response.status_code == 429:
            return done
        assert response.status_code == 200, response.text
    raise AssertionError(f"no 429 in {most} requests")


# ---- the bucket arithmetic, on a made-up clock ----


def test_policy_sizes() -> None:
    assert BucketPolicy(60_000).lease_size == 1200  # 2% of the limit
    assert BucketPolicy(100).lease_size == 2
    assert BucketPolicy(99).lease_size == 1
    assert BucketPolicy(1).lease_size == 1
    assert BucketPolicy(120).rate == 2.0 and BucketPolicy(120).capacity == 120.0


def test_refill_is_linear_capped_and_never_negative() -> None:
    policy = BucketPolicy(60)  # one permit a second
    empty = Bucket(tokens=0.0, refilled_at=START)
    assert refill(empty, policy, START + 30) == Bucket(tokens=30.0, refilled_at=START + 30)
    assert refill(empty, policy, START + 3600).tokens == 60.0
    # A process whose clock is behind adds nothing and does not move the bucket back.
    assert refill(Bucket(5.0, START), policy, START - 10) == Bucket(5.0, START)


def test_take_whole_permits_only() -> None:
    policy = BucketPolicy(60)
    after, taken = take(Bucket(tokens=2.5, refilled_at=START), policy, START, wanted=5)
    assert taken == 2 and after.tokens == 0.5
    after, taken = take(after, policy, START + 0.25, wanted=1)
    assert taken == 0 and after.tokens == 0.75
    after, taken = take(after, policy, START + 0.5, wanted=1)
    assert taken == 1 and after.tokens == 0.0


def test_next_permit_and_retry_after() -> None:
    policy = BucketPolicy(5)  # one permit every 12 s
    empty = Bucket(tokens=0.0, refilled_at=START)
    assert next_permit_at(empty, policy, START) == START + 12
    assert next_permit_at(empty, policy, START + 3) == START + 12
    assert next_permit_at(Bucket(1.0, START), policy, START) == START
    assert retry_after_seconds(9.0) == 9
    assert retry_after_seconds(8.2) == 9
    assert retry_after_seconds(0.01) == 1
    assert retry_after_seconds(0.0) == 1


async def test_limiter_leases_refuses_locally_and_recovers(app: FastAPI) -> None:
    clock = Clock()
    account = await new_account(app)
    await account.client.aclose()
    token_id = await token_id_of(app, account)
    limiter = RateLimiter(app.state.database, 200, clock=clock)  # leases of 4
    for _ in range(200):
        await limiter.spend(token_id)
    with pytest.raises(RateLimited) as refused:
        await limiter.spend(token_id)
    assert refused.value.retry_after_seconds == 1  # 0.3 s, rounded up
    # Refused from memory until then: the bucket is not read again.
    async with app.state.database.session() as session:
        row = await session.get(RateLimitBucket, token_id)
        assert row is not None and row.tokens == 0.0
        row.tokens = 200.0
    with pytest.raises(RateLimited, match="rate limit exceeded"):
        await limiter.spend(token_id)
    clock.now += 1
    await limiter.spend(token_id)


# ---- over HTTP ----


async def test_burst_over_the_limit_is_refused_with_retry_after(
    limited_app: LimitedApp,
) -> None:
    clock = Clock()
    async with limited_app(5, clock) as api:
        account = await new_account(api)
        other_key = await second_token(api, account)
        async with account.client as client, client_for(api, other_key) as other:
            assert await spend_until_refused(client) == 5
            refused = await client.get("/authentication/whoami")
            body = assert_error(refused, 429, "RATE_LIMITED")
            assert "5 requests a minute" in body["message"]
            # One permit every 12 s; the bucket is empty now.
            assert refused.headers["retry-after"] == "12"
            assert refused.headers["x-should-retry"] == "true"
            # The same user's other token has a bucket of its own.
            assert (await other.get("/authentication/whoami")).status_code == 200

            clock.now += 5
            assert (await client.get("/authentication/whoami")).headers["retry-after"] == "7"
            clock.now += 7
            assert (await client.get("/authentication/whoami")).status_code == 200
            assert (await client.get("/authentication/whoami")).status_code == 429
            clock.now += 60
            assert await spend_until_refused(client) == 5


async def test_leases_spare_the_database(limited_app: LimitedApp) -> None:
    """A process takes 2% of the limit at a time: 100 requests write the bucket once."""
    clock = Clock()
    async with limited_app(60_000, clock) as api:
        account = await new_account(api)
        async with account.client as client:
            for _ in range(100):
                assert (await client.get("/authentication/whoami")).status_code == 200
        bucket = await bucket_of(api, account)
        assert bucket is not None
        assert bucket.tokens == 60_000 - 1200
        assert bucket.refilled_at.timestamp() == START


async def test_the_limit_recovers_on_the_wall_clock(limited_app: LimitedApp) -> None:
    """One live check: at 60 a minute, the Retry-After answered (a second) is enough."""
    async with limited_app(60) as api:
        account = await new_account(api)
        async with account.client as client:
            assert (await client.get("/authentication/whoami")).status_code == 200
            # As if the other 59 were spent just now (by this or another process).
            async with api.state.database.session() as session:
                bucket = await session.get(RateLimitBucket, await token_id_of(api, account))
                assert bucket is not None
                bucket.tokens = 0.0
                bucket.refilled_at = utcnow()
            refused = await client.get("/authentication/whoami")
            assert_error(refused, 429, "RATE_LIMITED")
            wait = int(refused.headers["retry-after"])
            assert wait == 1
            await asyncio.sleep(wait)
            assert (await client.get("/authentication/whoami")).status_code == 200


async def test_zero_disables(limited_app: LimitedApp) -> None:
    async with limited_app(0, Clock()) as api:
        account = await new_account(api)
        async with account.client as client:
            for _ in range(50):
                assert (await client.get("/authentication/whoami")).status_code == 200
        assert await bucket_of(api, account) is None


async def test_unauthenticated_requests_are_not_counted(limited_app: LimitedApp) -> None:
    async with limited_app(2, Clock()) as api:
        account = await new_account(api)
        wrong_secret = account.api_key[:-4] + "zzzz"
        async with client_for(api, None) as anonymous, client_for(api, wrong_secret) as wrong:
            for _ in range(5):
                assert_error(await anonymous.get("/authentication/whoami"), 401)
                assert_error(await wrong.get("/authentication/whoami"), 401)
        assert await bucket_of(api, account) is None
        async with account.client as client:
            assert await spend_until_refused(client) == 2


async def test_processes_share_one_budget(limited_app: LimitedApp) -> None:
    """Two API processes on one database: 100 a minute in all, not 100 each."""
    clock = Clock()
    async with limited_app(100, clock) as first, limited_app(100, clock) as second:
        lease = BucketPolicy(100).lease_size  # 2
        account = await new_account(first)
        await account.client.aclose()
        async with (
            client_for(first, account.api_key) as a,
            client_for(second, account.api_key) as b,
        ):
            # Alternate until both refuse: with the clock still, every permit was spent once.
            granted = {"a": 0, "b": 0}
            open_ = {"a": a, "b": b}
            while open_:
                for name, client in list(open_.items()):
                    response = await client.get("/authentication/whoami")
                    if response.status_code == 429:
                        del open_[name]
                    else:
                        assert response.status_code == 200
                        granted[name] += 1
            assert granted["a"] + granted["b"] == 100
            assert granted["a"] > 0 and granted["b"] > 0

            # The overshoot bound: a process may hold up to lease - 1 permits it took before a
            # refill. Over the next minute: the full bucket plus what was held.
            clock.now += 60
            assert (await a.get("/authentication/whoami")).status_code == 200  # leased 2
            assert await spend_until_refused(b) == 100 - lease
            clock.now += 60  # the bucket is full again; `a` still holds a permit from before
            in_window = await spend_until_refused(b) + await spend_until_refused(a)
            assert in_window == 100 + (lease - 1)
            assert in_window <= 100 + 2 * (lease - 1)  # capacity + processes * (lease - 1)


async def test_concurrent_writes_share_the_budget_exactly(limited_app: LimitedApp) -> None:
    """Write requests at once (on SQLite each holds the write lock from its first read): every
    one is answered, and exactly the limit gets through."""
    async with limited_app(10, Clock()) as api:
        account = await new_account(api)
        async with account.client as client:
            responses = await asyncio.gather(
                *(client.post("/agents", json={"name": f"agent {n}"}) for n in range(30))
            )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] * 10 + [429] * 20, [
            r.text for r in responses if r.status_code >= 500
        ]


async def test_a_refused_post_is_not_kept_for_its_idempotency_key(
    limited_app: LimitedApp,
) -> None:
    clock = Clock()
    async with limited_app(1, clock) as api:
        account = await new_account(api)
        async with account.client as client:
            assert (await client.get("/authentication/whoami")).status_code == 200
            headers = {"Idempotency-Key": "rate-limited-create"}
            refused = await client.post("/agents", json={"name": "limited"}, headers=headers)
            assert_error(refused, 429, "RATE_LIMITED")
            assert refused.headers["retry-after"] == "60"
            clock.now += 60
            created = await client.post("/agents", json={"name": "limited"}, headers=headers)
            assert created.status_code == 201, created.text
            assert "idempotent-replayed" not in created.headers
