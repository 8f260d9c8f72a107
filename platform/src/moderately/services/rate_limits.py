"""Per-token rate limits: one token bucket per API token, kept in the database (shared by every
API process and machine) and spent from memory in small leases.

The bucket holds at most `per_minute` permits (a minute of burst) and refills at `per_minute / 60`
a second. A process takes permits from the shared row in leases of `lease_size` (2% of the
per-minute limit, at least one), in one short write transaction, and spends them locally; it goes
back to the database only when they are gone. A request is refused (429) when the bucket holds
less than one permit; the process then refuses that token locally, without the database, until
the bucket will hold one again (the Retry-After it answered).

Overshoot: every permit spent was first taken from the bucket, but a process may hold up to
`lease_size - 1` permits it took earlier. Over any window of `w` seconds a token is therefore
granted at most `per_minute + w * per_minute / 60 + P * (lease_size - 1)` requests, with `P` the
number of API processes: beyond what one exact bucket allows, less than 2% of the per-minute
limit per process. (With a limit under 100 a minute the lease is a single permit: exact.)

Clocks: `refilled_at` is the wall clock of the process that leased last. A process whose clock is
behind adds no refill until it catches up (elapsed time is never negative); machines sharing a
database should keep their clocks in sync (NTP).

The bucket arithmetic is plain functions over times in seconds, so it is tested with a made-up
clock; `RateLimiter.clock` is that clock for the whole limiter.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import RateLimitBucket
from moderately.db.session import Database
from moderately.errors import RateLimited, Unauthorized

# Share of the per-minute limit one lease takes (1/50 = 2%): the overshoot bound per process.
LEASE_FRACTION = 50
# Past this many tokens remembered, those with nothing held and no refusal pending are dropped.
MAX_REMEMBERED_TOKENS = 10_000
_EPSILON = 1e-9


@dataclass(frozen=True)
class BucketPolicy:
    per_minute: int

    @property
    def capacity(self) -> float:
        return float(self.per_minute)

    @property
    def rate(self) -> float:
        """Permits added per second."""
        return self.per_minute / 60

    @property
    def lease_size(self) -> int:
        return max(1, self.per_minute // LEASE_FRACTION)


@dataclass(frozen=True)
class Bucket:
    tokens: float
    refilled_at: float  # seconds since the epoch


def refill(bucket: Bucket, policy: BucketPolicy, now: float) -> Bucket:
    """The bucket at `now`: topped up for the time since it was last refilled, up to capacity."""
    elapsed = max(0.0, now - bucket.refilled_at)
    # Multiplied before divided: whole seconds at whole-number limits refill exactly.
    tokens = min(policy.capacity, bucket.tokens + elapsed * policy.per_minute / 60)
    return Bucket(tokens=tokens, refilled_at=max(bucket.refilled_at, now))


def take(bucket: Bucket, policy: BucketPolicy, now: float, wanted: int) -> tuple[Bucket, int]:
    """Take up to `wanted` whole permits at `now`: the bucket after, and how many were taken."""
    bucket = refill(bucket, policy, now)
    # (A hair of tolerance: a permit refilled by float arithmetic may come out as 0.999...)
    taken = max(0, min(wanted, math.floor(bucket.tokens + _EPSILON)))
    return Bucket(tokens=bucket.tokens - taken, refilled_at=bucket.refilled_at), taken


def next_permit_at(bucket: Bucket, policy: BucketPolicy, now: float) -> float:
    """When the bucket will hold one whole permit (`now` if it already does)."""
    bucket = refill(bucket, policy, now)
    missing = 1.0 - bucket.tokens
    return now if missing <= _EPSILON else now + missing * 60 / policy.per_minute


def retry_after_seconds(wait: float) -> int:
    """The Retry-After value for a wait: whole seconds, rounded up, at least one."""
    return max(1, math.ceil(wait))


@dataclass(frozen=True)
class Lease:
    permits: int
    # When `permits` is 0: when the shared bucket will hold a permit again.
    next_permit_at: float


def _datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def lease_permits(
    session: AsyncSession, token_id: str, policy: BucketPolicy, now: float
) -> Lease:
    """Take up to `policy.lease_size` permits from the token's bucket (created full on first use).

    Run in a write session: the row is locked (PostgreSQL) or the database is (SQLite, BEGIN
    IMMEDIATE) from the read to the write, so concurrent leases never take the same permits.
    """
    # FOR UPDATE on PostgreSQL; SQLite renders none (db/dialect.py).
    query = (
        select(RateLimitBucket.tokens, RateLimitBucket.refilled_at)
        .where(RateLimitBucket.token_id == token_id)
        .with_for_update()
    )
    row = (await session.execute(query)).one_or_none()
    if row is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(RateLimitBucket).values(
            token_id=token_id, tokens=policy.capacity, refilled_at=_datetime(now)
        )
        try:
            # Another process may create it first; then its row (locked below) is the bucket.
            await session.execute(statement.on_conflict_do_nothing(index_elements=["token_id"]))
        except IntegrityError as exc:  # deleted since it authenticated this request
            raise Unauthorized("this API token no longer exists") from exc
        row = (await session.execute(query)).one()
    before = Bucket(tokens=row.tokens, refilled_at=row.refilled_at.timestamp())
    after, taken = take(before, policy, now, policy.lease_size)
    await session.execute(
        update(RateLimitBucket)
        .where(RateLimitBucket.token_id == token_id)
        .values(tokens=after.tokens, refilled_at=_datetime(after.refilled_at))
        .execution_options(synchronize_session=False)
    )
    return Lease(permits=taken, next_permit_at=next_permit_at(after, policy, now))


@dataclass
class _Held:
    """What this process knows of one token's bucket."""

    permits: int = 0  # leased and not yet spent
    empty_until: float = 0.0  # refused locally until then (the bucket was empty)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one lease at a time


class RateLimiter:
    """One per API process (`create_app`): spends leased permits per token, leases more when
    they run out, refuses with `RateLimited` when the shared bucket is empty."""

    def __init__(
        self, database: Database, per_minute: int, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.database = database
        self.policy = BucketPolicy(per_minute) if per_minute > 0 else None
        self.clock = clock
        self._held: dict[str, _Held] = {}

    def spend_held(self, token_id: str) -> bool:
        """Spend a permit this process holds (True); False when none is held and a lease is
        needed. Raises `RateLimited` while the bucket is known to be empty."""
        if self.policy is None:
            return True
        held = self._held.get(token_id)
        if held is None:
            return False
        if held.permits > 0:
            held.permits -= 1
            return True
        now = self.clock()
        if now < held.empty_until:
            raise self._refusal(held.empty_until - now)
        return False

    async def spend(self, token_id: str) -> None:
        """Spend one permit for `token_id`, leasing from the shared bucket when none is held."""
        if self.spend_held(token_id):
            return
        assert self.policy is not None  # spend_held is True when there is no limit
        held = self._remember(token_id)
        async with held.lock:
            # Whoever held the lock before may have leased enough for this request too.
            if self.spend_held(token_id):
                return
            now = self.clock()
            async with self.database.session() as session:
                lease = await lease_permits(session, token_id, self.policy, now)
            if lease.permits == 0:
                held.empty_until = lease.next_permit_at
                raise self._refusal(lease.next_permit_at - now)
            held.permits = lease.permits - 1

    def _remember(self, token_id: str) -> _Held:
        held = self._held.get(token_id)
        if held is not None:
            return held
        if len(self._held) >= MAX_REMEMBERED_TOKENS:
            now = self.clock()
            for key, old in list(self._held.items()):
                if not old.permits and old.empty_until <= now and not old.lock.locked():
                    del self._held[key]
        held = self._held[token_id] = _Held()
        return held

    def _refusal(self, wait: float) -> RateLimited:
        assert self.policy is not None
        seconds = retry_after_seconds(wait)
        return RateLimited(
            f"rate limit exceeded: this API token may make {self.policy.per_minute} requests "
            f"a minute; retry after {seconds} s",
            retry_after_seconds=seconds,
        )
