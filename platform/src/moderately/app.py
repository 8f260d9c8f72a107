"""The application factory: `create_app(settings)` builds everything; nothing happens at import."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from moderately import __version__, logredact
from moderately.api import ROUTERS, extensions
from moderately.api.body_limit import BodyLimitMiddleware
from moderately.api.collection_router import CollectionRouter
from moderately.api.errors import install_error_handlers
from moderately.api.idempotency import IdempotencyMiddleware
from moderately.api.middleware import WireMiddleware
from moderately.composition import job_queue, open_object_store, prepare_queue, storage_for
from moderately.config import Settings
from moderately.db.migrate import upgrade_to_head
from moderately.db.session import Database
from moderately.periodic_sweeps import sweep_periodically
from moderately.services.rate_limits import RateLimiter
from moderately.services.token_cache import follow_generation
from moderately.services.usage import UsageRecorder
from moderately.workers import DbQueue
from moderately.workers.supervisor import WorkerSupervisor

log = logging.getLogger("moderately")


def operation_id(route: APIRoute) -> str:
    """Stable operation ids: the handler's name (`list_agents`, `retrieve_team`, ...)."""
    return route.name


def create_app(settings: Settings) -> FastAPI:
    logredact.install()  # before anything logs: no credential in any log line
    database = Database(settings)
    usage = UsageRecorder()
    jobs = job_queue(database, settings)

    async def flush_usage() -> None:
        async with database.session() as session:
            await usage.flush(session)

    async def flush_periodically() -> None:
        while True:
            await asyncio.sleep(settings.usage_flush_interval_seconds)
            try:
                await flush_usage()
            except Exception:  # counts are best effort; the next flush tries again
                log.warning("could not write usage counts", exc_info=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_startup:
            await anyio.to_thread.run_sync(upgrade_to_head, settings)
            await anyio.to_thread.run_sync(prepare_queue, settings)
        store = await open_object_store(settings)
        storage = storage_for(settings, store)
        app.state.storage = storage
        # The jobs run in worker processes (they recover what a previous run left running
        # first); this process only enqueues, and wakes its workers when it does.
        workers = WorkerSupervisor(settings, settings.workers)
        app.state.workers = workers
        await workers.start()
        if isinstance(jobs, DbQueue):
            jobs.on_enqueue = workers.wake
        tasks = [
            asyncio.create_task(flush_periodically()),
            asyncio.create_task(sweep_periodically(database, storage, settings)),
            asyncio.create_task(
                follow_generation(database, database.tokens, settings.token_cache_poll_seconds)
            ),
        ]
        try:
            yield
        finally:
            if isinstance(jobs, DbQueue):
                jobs.on_enqueue = None
            await workers.stop()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            with contextlib.suppress(Exception):
                await flush_usage()
            await store.aclose()
            await database.dispose()

    app = FastAPI(
        title="Moderately AI API",
        version=__version__,
        description="Self-hosted Moderately AI platform (identity, teams, users, agents, files, "
        "datasets, pipelines).",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        openapi_url=f"{settings.mount_prefix}/openapi.json",
        docs_url=f"{settings.mount_prefix}/docs",
        redoc_url=None,
        # A body sent without any Content-Type is read as JSON (liberal in what we accept).
        strict_content_type=False,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.usage = usage
    app.state.jobs = jobs
    app.state.rate_limiter = RateLimiter(database, settings.rate_limit_per_minute)
    install_error_handlers(app)
    for router in ROUTERS:
        if not settings.api_extensions:  # only the published API: extension routes answer 404
            router = extensions.published_only(router)
        app.include_router(CollectionRouter(router.routes), prefix=settings.mount_prefix)
    # Added last = outermost: the wire rules apply before idempotency hashes the request.
    app.add_middleware(
        IdempotencyMiddleware, database=database, ttl_seconds=settings.idempotency_ttl_seconds
    )
    app.add_middleware(WireMiddleware, usage=usage, prefix=settings.mount_prefix)
    # Outermost: a body over the limit is refused before anything reads or authenticates it.
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.max_request_body_bytes,
        prefix=settings.mount_prefix,
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = honest_openapi(app)
            _state_upload_limit(app.openapi_schema, settings.max_upload_bytes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _state_upload_limit(document: dict[str, Any], limit: int) -> None:
    """The upload limit is a setting: the document says the one this server enforces."""
    schemas = document.get("components", {}).get("schemas", {})
    for model, names in (
        ("FileUploadUrlCreate", ("fileSize", "file_size")),
        ("DataVersionCreate", ("fileSizeBytes", "file_size_bytes")),
    ):
        properties = schemas.get(model, {}).get("properties", {})
        for name in names:
            if name not in properties:
                continue
            prop = properties[name]
            for branch in prop.get("anyOf", [prop]):
                if branch.get("type") == "integer":
                    branch["maximum"] = limit


def honest_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document minus its 422s: this server answers validation errors with 400."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            operation.get("responses", {}).pop("422", None)
            # A query value is never JSON null; an absent parameter is how "none" is said.
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
                if len(branches) == 1 and len(schema["anyOf"]) == 2:
                    del schema["anyOf"]
                    schema.update(branches[0])
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document
