"""Principals of recently used API tokens, kept in memory, so that a request's credentials
cost no database round trip.

Invalidation across processes and machines goes through one counter, the `auth` row of
`auth_generations`:

* every change that can end or narrow a token's access (a token deactivated, re-roled, given an
  expiry, moved or deleted; a membership re-roled, moved or removed; a user or a team deleted)
  moves the counter in the same transaction (the listeners below, on every session);
* the process that commits such a change drops its cached principals at once;
* every API process reads the counter every `poll_seconds` (`follow_generation`) and drops its
  cached principals when it has moved. A process that cannot read it drops them too;
* each principal is stored with the counter read in the same query as the token. One read at an
  older generation than the process has already seen is never stored, so a lookup that races a
  revocation cannot bring the revoked principal back.

An entry also lives at most `ttl_seconds`, and never past its token's own expiry. Failed lookups
are never cached: a wrong token costs its query every time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ScalarSelect, Select, event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from moderately.db.models import ApiToken, AuthGeneration, Team, TeamUser, User
from moderately.services.audit import assigned_columns
from moderately.timeutil import utcnow

if TYPE_CHECKING:
    from moderately.db.session import Database
    from moderately.services.auth import Principal

logger = logging.getLogger(__name__)

AUTH = "auth"
# Above this many cached tokens the oldest is dropped first.
MAX_ENTRIES = 10_000
# The session.info keys: the cache of the sessions' database, and the generation a transaction
# moved the counter to (set when it moves it, read once it commits).
CACHE_KEY = "token_cache"
_MOVED_KEY = "auth_generation_moved_to"

# The columns whose change can end or narrow access; a row deleted always can. Other columns
# (a token's last use, names, timestamps) leave cached principals alone; of a user or a team,
# only its deletion matters.
_WATCHED: dict[type[Any], frozenset[str]] = {
    ApiToken: frozenset(
        {"is_active", "expires_at", "role", "team_id", "created_by_user_id", "token_hash"}
    ),
    TeamUser: frozenset({"role", "team_id", "user_id"}),
    User: frozenset(),
    Team: frozenset(),
}


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    expires_at: datetime | None  # the token's own expiry
    stored_at: float  # on the cache's clock
    generation: int


class TokenCache:
    """Principals by token hash; `ttl_seconds` 0 turns the cache off."""

    def __init__(self, ttl_seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self.generation = -1  # the highest counter value this process has seen
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token_hash: str) -> Principal | None:
        """A fresh principal (its own list of checks) for this token, or None to look it up."""
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        too_old = self.clock() - entry.stored_at >= self.ttl_seconds
        if too_old or (entry.expires_at is not None and entry.expires_at <= utcnow()):
            self._entries.pop(token_hash, None)
            return None
        return replace(entry.principal, checks=[])

    def put(
        self,
        token_hash: str,
        principal: Principal,
        *,
        expires_at: datetime | None,
        generation: int,
    ) -> None:
        """Remember `principal`, read at counter value `generation`, unless that is stale."""
        if self.ttl_seconds <= 0 or generation < self.generation:
            return
        self.advance(generation)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.pop(next(iter(self._entries)))
        self._entries[token_hash] = _Entry(principal, expires_at, self.clock(), generation)

    def advance(self, generation: int) -> None:
        """The counter reads `generation`: drop everything cached before it moved there."""
        if generation > self.generation:
            self._entries.clear()
            self.generation = generation

    def clear(self) -> None:
        self._entries.clear()


def _generation() -> Select[int]:
    return select(AuthGeneration.generation).where(AuthGeneration.name == AUTH)


def current_generation() -> ScalarSelect[int]:
    """The counter as a scalar subquery, to read in the same query as a token."""
    return _generation().scalar_subquery()


async def follow_generation(database: Database, cache: TokenCache, interval: float) -> None:
    """Read the counter every `interval` seconds, dropping the cache when it has moved (or when
    it cannot be read: nothing cached can be trusted then). Runs until cancelled."""
    while True:
        try:
            async with database.session(write=False) as session:
                value = await session.scalar(_generation())
            cache.advance(int(value or 0))
        except Exception:  # the database is away: trust nothing until it answers again
            logger.warning("cannot read the auth generation; token cache dropped", exc_info=True)
            cache.clear()
        await asyncio.sleep(interval)


# ---- the listeners that move the counter ----


def _move(session: Session) -> None:
    """Move the counter in this transaction (once per transaction)."""
    if _MOVED_KEY in session.info:
        return
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(AuthGeneration)
        .values(name=AUTH, generation=1)
        .on_conflict_do_update(
            index_elements=[AuthGeneration.name],
            set_={"generation": AuthGeneration.generation + 1},
        )
        .returning(AuthGeneration.generation)
    )
    session.info[_MOVED_KEY] = int(connection.execute(statement).scalar_one())


def _narrows_access(row: Any) -> bool:
    watched = _WATCHED.get(type(row))
    if watched is None:
        return False
    state = inspect(row)
    return any(state.attrs[name].history.has_changes() for name in watched)


def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    if any(type(row) in _WATCHED for row in session.deleted) or any(
        _narrows_access(row) for row in session.dirty
    ):
        _move(session)


def _on_orm_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    statement: Any = state.statement
    model = (getattr(statement, "entity_description", None) or {}).get("entity")
    watched = _WATCHED.get(model) if model is not None else None
    if watched is None:
        return
    if state.is_delete or watched & set(assigned_columns(statement)):
        _move(state.session)


def _after_commit(session: Session) -> None:
    moved_to = session.info.pop(_MOVED_KEY, None)
    cache: TokenCache | None = session.info.get(CACHE_KEY)
    if moved_to is not None and cache is not None:
        cache.advance(moved_to)


def _after_rollback(session: Session, _previous: object) -> None:
    session.info.pop(_MOVED_KEY, None)


_installed = False


def install() -> None:
    """Register the listeners on every session of this process (once)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "do_orm_execute", _on_orm_execute)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)
    _installed = True
