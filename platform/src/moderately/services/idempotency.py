"""Idempotency keys: the first response to a keyed POST is kept and replayed for repeats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import IdempotencyRecord
from moderately.timeutil import utcnow

# A record still "in flight" after this long belongs to a request that died with its process.
STALE_IN_FLIGHT = timedelta(minutes=2)


@dataclass(frozen=True)
class Started:
    record_id: int


@dataclass(frozen=True)
class Replay:
    status_code: int
    content_type: str | None
    body: str
    # The (team, role) checks the first request passed: a replay runs them again.
    authorization: list[tuple[str, str]]


@dataclass(frozen=True)
class SecretNotKept:
    """The first response carried a secret, which was not kept: only what it created is known."""

    resource_id: str
    authorization: list[tuple[str, str]]


@dataclass(frozen=True)
class InFlight:
    pass


@dataclass(frozen=True)
class Mismatch:
    pass


Outcome = Started | Replay | SecretNotKept | InFlight | Mismatch


async def begin(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    request_hash: str,
    ttl_seconds: int,
    purge_expired: bool = True,
) -> Outcome:
    """Claim the key for this request, or say what to answer instead. With `purge_expired`,
    every expired record goes first (a caller does it now and then, not on every POST); an
    expired record of this key is never answered from either way."""
    now = utcnow()
    if purge_expired:
        await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    existing = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    )
    if existing is not None and existing.expires_at > now:
        if existing.request_hash != request_hash:
            return Mismatch()
        if existing.status_code is not None:
            checks = [(team, role) for team, role in existing.authorization or ()]
            if existing.secret_resource_id is not None:
                return SecretNotKept(existing.secret_resource_id, checks)
            return Replay(
                existing.status_code, existing.content_type, existing.response_body or "", checks
            )
        if now - existing.created_at < STALE_IN_FLIGHT:
            return InFlight()
    if existing is not None:  # expired, or in flight so long that its request died
        await session.delete(existing)
        await session.flush()
    record = IdempotencyRecord(
        scope=scope,
        key=key,
        request_hash=request_hash,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    session.add(record)
    try:
        await session.flush()
    except IntegrityError:
        # Another request claimed the same key between our read and our insert.
        return InFlight()
    return Started(record.record_id)


async def finish(
    session: AsyncSession,
    *,
    record_id: int,
    status_code: int,
    content_type: str | None,
    body: str | None,
    authorization: list[tuple[str, str]],
    secret_resource_id: str | None = None,
) -> None:
    """Keep the first response, or, when it carried a secret (`secret_resource_id` set), only
    the id of what it created: a secret is never stored, so it can never be replayed. One
    UPDATE (a record purged meanwhile is simply not there)."""
    kept: dict[str, object] = {
        "status_code": status_code,
        "authorization": [[team, role] for team, role in authorization],
    }
    if secret_resource_id is None:
        kept |= {"content_type": content_type, "response_body": body}
    else:
        kept["secret_resource_id"] = secret_resource_id
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.record_id == record_id)
        .values(**kept)
        .execution_options(synchronize_session=False)
    )


async def abandon(session: AsyncSession, *, record_id: int) -> None:
    """Forget the claim, so a retry runs the request again (after a 5xx, say)."""
    await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.record_id == record_id))
