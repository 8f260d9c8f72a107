"""The rate limit of the request's API token (services/rate_limits.py), applied once the token
is known (api/deps.py `get_principal`)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.services.auth import Principal
from moderately.services.rate_limits import RateLimiter


async def enforce_rate_limit(request: Request, principal: Principal, session: AsyncSession) -> None:
    """Spend one of the token's permits, or raise `RateLimited` (429 with Retry-After)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    if limiter.spend_held(principal.token_id):
        return
    # A lease is a write transaction of its own. The request's transaction has only read the
    # token so far: end it first, so the lease never waits for a lock the request itself holds
    # (on SQLite a write request holds the database's one write lock from its first read) and
    # the request holds no connection while it waits for another.
    if session.in_transaction():
        await session.commit()
    await limiter.spend(principal.token_id)
