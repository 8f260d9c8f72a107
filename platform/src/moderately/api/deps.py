"""Request dependencies as Annotated aliases, so handler signatures read like prose."""

# No `from __future__ import annotations` here: FastAPI must see the real types built at runtime
# inside `paging()`.
#
# Every dependency is `async def`, even those that only read app state: FastAPI runs a plain
# `def` dependency in a worker thread, a thread hop per dependency per request.

from collections.abc import AsyncIterator, Awaitable, Callable
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.api.errors import request_id_of
from moderately.api.rate_limits import enforce_rate_limit
from moderately.config import Settings
from moderately.db.session import Database
from moderately.schemas.entities import Direction
from moderately.services.auth import Principal, RequestFacts, authenticate
from moderately.services.filters import TEAM_IDS, Values
from moderately.services.paging import PageParams, split_values
from moderately.services.scope import check_requested_teams
from moderately.services.transfers import Storage
from moderately.services.usage import UsageRecorder
from moderately.workers.base import JobQueue

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(
    auto_error=False, scheme_name="bearerAuth", description="An API token: `Bearer mai_...`"
)


def database_of(request: Request) -> Database:
    """The app's database. Dependencies call this rather than depend on `get_database`: a
    sub-dependency costs a resolution per request."""
    database: Database = request.app.state.database
    return database


async def get_database(request: Request) -> Database:
    return database_of(request)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, committed before the response is sent (scope="function")."""
    database = database_of(request)
    async with database.session(write=request.method not in _READ_METHODS) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = credentials.credentials if credentials else None
    principal = await authenticate(session, token=token, cache=database_of(request).tokens)
    # Read by the usage recorder once the response is out, and by the idempotency middleware
    # (the role checks this request passed).
    request.state.token_id = principal.token_id
    request.state.principal = principal
    # Who writes in this session, for the audit log written in the same transaction.
    session.info["principal"] = principal
    session.info["request"] = RequestFacts(
        request_id=request_id_of(request.scope),
        ip_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    # Every authenticated request counts, whatever it answers (a 429 too, in the token's usage).
    await enforce_rate_limit(request, principal, session)
    # `teamIds` rides on every call from the SDK; naming a foreign team is refused everywhere.
    check_requested_teams(principal, split_values(request.query_params.getlist("teamIds")))
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal, scope="function")]


async def get_usage(request: Request) -> UsageRecorder:
    recorder: UsageRecorder = request.app.state.usage
    return recorder


async def flush_usage(
    database: Annotated[Database, Depends(get_database)],
    recorder: Annotated[UsageRecorder, Depends(get_usage)],
) -> None:
    """Before reading usage numbers: write this process's pending counts."""
    if recorder.pending:
        async with database.session() as session:
            await recorder.flush(session)


FreshUsage = Depends(flush_usage)


async def get_storage(request: Request) -> Storage:
    """The object store and its rules, with the address this request reached the API at: the
    local store serves its URLs there (`public_url` when set, as for credentials.env)."""
    storage: Storage = request.app.state.storage
    settings = request.app.state.settings
    base = settings.public_url or str(request.base_url).rstrip("/") + settings.mount_prefix
    return storage.at(base)


StoreDep = Annotated[Storage, Depends(get_storage)]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_jobs(request: Request) -> JobQueue:
    """The job queue (workers/db_queue.py); jobs are enqueued in the request's transaction."""
    jobs: JobQueue = request.app.state.jobs
    return jobs


JobsDep = Annotated[JobQueue, Depends(get_jobs)]

# A multi-value query value (repeated keys, comma lists, or both), as the list filters read it.
MultiValue = Values

TeamIdsQuery = Annotated[MultiValue, Query(alias="teamIds", description=TEAM_IDS)]


def paging(
    sort: type[StrEnum],
    *,
    max_page_size: int = 1000,
    default_page_size: int = 10,
    default_direction: Direction = Direction.asc,
) -> Callable[..., Awaitable[PageParams]]:
    """A dependency reading page, pageSize, orderBy and orderDirection for one list endpoint."""

    async def dependency(
        page: Annotated[int, Query(ge=1, description="1-based page number")] = 1,
        page_size: Annotated[
            int, Query(alias="pageSize", ge=1, le=max_page_size, description="items per page")
        ] = default_page_size,
        order_by: Annotated[
            sort | None,  # type: ignore[valid-type]
            Query(alias="orderBy", description="sort key (default createdAt; ties by id)"),
        ] = None,
        order_direction: Annotated[Direction, Query(alias="orderDirection")] = default_direction,
    ) -> PageParams:
        return PageParams(
            page=page,
            page_size=page_size,
            order_by=order_by.value if order_by is not None else None,
            order_direction=order_direction.value,
        )

    return dependency
