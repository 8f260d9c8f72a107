"""The one mapping from failures to HTTP: status, the error envelope, X-Request-Id, Retry-After."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import Scope

from moderately.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from moderately.ids import new_id
from moderately.logredact import redact
from moderately.schemas.base import ErrorEnvelope
from moderately.storage import IntegrityError as StorageIntegrityError
from moderately.storage import (
    InvalidKey,
    ObjectNotFound,
    SignatureError,
    StorageError,
    StoreUnavailable,
    UploadRejected,
)
from moderately.timeutil import format_timestamp, utcnow

log = logging.getLogger("moderately.api")

CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_ENTITY",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}

# Order matters: subclasses first (InvalidState is an Invalid).
DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (Invalid, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (RateLimited, 429),
    (Unavailable, 503),
)

RETRY_AFTER_SECONDS = "1"
# `X-Should-Retry` by status when the caller does not say: a 409 is final (duplicate name,
# terminal state), a 429 or 503 passes. The SDK honours the header over its own rules.
SHOULD_RETRY = {409: False, 429: True, 503: True}

DESCRIPTIONS = {
    400: "Invalid request (malformed JSON, invalid field, paging or sort value)",
    401: "Missing, invalid, expired or inactive API token",
    403: "Not allowed: read-only token, missing admin role, or a team you are not in",
    404: "Not found (or belongs to a team you are not in)",
    409: "Conflict: final (duplicate name, terminal state; `X-Should-Retry: false`) or "
    "transient (an Idempotency-Key still in flight; `X-Should-Retry: true`, `Retry-After`)",
    413: "Request body larger than the server's limit (MODERATELY_MAX_REQUEST_BODY_BYTES); "
    "refused before it is read",
    429: "The API token's rate limit (MODERATELY_RATE_LIMIT_PER_MINUTE) is spent; retry after "
    "Retry-After seconds",
    500: "Unexpected server error",
    503: "Database unavailable or busy; retry after Retry-After seconds",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: every error it can answer, all with the envelope
    (any route answers 413 to a body over the limit, api/body_limit.py; an authenticated one
    429 when its token's rate limit is spent, services/rate_limits.py)."""
    return {
        status: {"model": ErrorEnvelope, "description": DESCRIPTIONS[status]}
        for status in sorted({*statuses, 401, 413, 429, 500, 503})
    }


def request_id_of(scope: Scope) -> str:
    state = scope.setdefault("state", {})
    request_id = state.get("request_id")
    if not request_id:
        request_id = state["request_id"] = new_id()
    return str(request_id)


def error_response(
    scope: Scope,
    status: int,
    message: str,
    *,
    code: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    retry: bool | None = None,
) -> JSONResponse:
    """The error envelope (docs/reference/api.md); top-level `details` on every 400 only.

    `retry` sets `X-Should-Retry`; by default it follows `SHOULD_RETRY`.
    """
    request_id = request_id_of(scope)
    code = code or CODES.get(status, "ERROR")
    if status == 400:
        details = details or []
    body: dict[str, Any] = {
        "error": {
            "code": code,
            "message": message,
            "details": details,
            "timestamp": format_timestamp(utcnow()),
            # A storage URL's path is its credential: echoed redacted, like in the logs.
            "path": redact(scope.get("path", "")),
            "requestId": request_id,
        },
        "code": code,
        "message": message,
    }
    if status == 400:
        body["details"] = details
    all_headers = {"X-Request-Id": request_id, **(headers or {})}
    if status in (429, 503):
        all_headers.setdefault("Retry-After", RETRY_AFTER_SECONDS)
    retry = SHOULD_RETRY.get(status) if retry is None else retry
    if retry is not None:
        all_headers["X-Should-Retry"] = "true" if retry else "false"
    return JSONResponse(body, status_code=status, headers=all_headers)


MAX_DETAIL_VALUE_CHARS = 200


def _jsonable(value: Any) -> Any:
    """`value` when its JSON is at most 200 characters (echoed in a detail), else None.

    The input of a failed check can be the whole request body: its size is estimated first
    (bounded work), so a large document is never serialised here, on the event loop.
    """
    if not _may_be_short(value, MAX_DETAIL_VALUE_CHARS):
        return None
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value if len(text) <= MAX_DETAIL_VALUE_CHARS else None


def _may_be_short(value: Any, budget: int) -> bool:
    """False once `value` surely serialises to more than `budget` characters: every string,
    key and container costs at least its length (or 2); at most `budget` items are looked at."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            budget -= len(item) + 2
        elif isinstance(item, dict):
            budget -= 2 + len(item)
            if budget >= 0:
                pending.extend(item.keys())
                pending.extend(item.values())
        elif isinstance(item, list | tuple):
            budget -= 2 + len(item)
            if budget >= 0:
                pending.extend(item)
        else:
            budget -= 1
        if budget < 0:
            return False
    return True


def validation_details(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    details: list[dict[str, Any]] = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        where = loc[0] if loc else ""
        field = ".".join(loc[1:]) if where in ("body", "query", "path", "header") else ".".join(loc)
        if error.get("type") == "json_invalid":
            message = "malformed JSON body"
            field = "body"
        else:
            message = str(error.get("msg", "invalid value"))
        detail: dict[str, Any] = {"field": field or where, "message": message}
        value = _jsonable(error.get("input"))
        if value is not None and error.get("type") not in ("missing", "json_invalid"):
            detail["value"] = value
        details.append(detail)
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:3]) or "invalid request"
    return summary, details


def _allowed_methods(scope: Scope) -> list[str]:
    """Every documented method on this path (Starlette names only the first route's)."""
    app = scope.get("app")
    document: dict[str, Any] = app.openapi() if app is not None else {}
    path = scope.get("path", "")
    paths: dict[str, Any] = document.get("paths", {})
    if path in paths:  # a literal path (/files/upload-url) is routed before any /{id} pattern
        return sorted(m.upper() for m in paths[path] if m in _HTTP_METHODS)
    methods: set[str] = set()
    for template, item in paths.items():
        pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods.update(m.upper() for m in item if m in _HTTP_METHODS)
    return sorted(methods)


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _is_transient(exc: DBAPIError) -> bool:
    """A lost connection or a busy SQLite file: worth retrying, so 503 rather than 500."""
    if exc.connection_invalidated:
        return True
    text = str(exc.orig).lower()
    return any(
        marker in text
        for marker in (
            "database is locked",
            "database is busy",
            "connection",
            "server closed",
            "terminating",
            "could not connect",
            "disk i/o",
        )
    )


def response_for(scope: Scope, exc: BaseException) -> JSONResponse:
    """Every failure, wherever it surfaced (handler, dependency, middleware), maps here."""
    if isinstance(exc, DomainError):
        status = next(s for kind, s in DOMAIN_STATUS if isinstance(exc, kind))
        headers = (
            {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, RateLimited) else None
        )
        return error_response(
            scope, status, exc.message, details=exc.details, code=exc.code, headers=headers
        )
    if isinstance(exc, RequestValidationError):
        message, details = validation_details(exc)
        return error_response(scope, 400, message, details=details)
    if isinstance(exc, HTTPException):
        status = exc.status_code if exc.status_code in CODES else 400
        message = str(exc.detail) if exc.status_code != 404 else "no such endpoint"
        headers = dict(exc.headers or {})
        if status == 405:
            headers["Allow"] = ", ".join(_allowed_methods(scope))
        return error_response(scope, status, message, headers=headers)
    if isinstance(exc, StoreUnavailable):
        log.warning("object store unavailable (request %s): %s", request_id_of(scope), exc)
        return error_response(scope, 503, "object storage unavailable, retry shortly")
    if isinstance(exc, StorageError) and exc.http_status < 500:
        # Signature problems 403 (as S3 answers), rejected bodies 400, missing objects 404.
        return error_response(scope, exc.http_status, storage_message(exc))
    if isinstance(exc, ClientDisconnect):
        # Nobody is left to read the answer; an upload cut short leaves nothing behind.
        log.info("client disconnected during %s %s", scope.get("method"), scope.get("path"))
        return error_response(scope, 400, "the client disconnected before the request ended")
    if isinstance(exc, IntegrityError):
        return error_response(scope, 409, "conflicts with an existing record")
    if isinstance(exc, DataError):
        return error_response(scope, 400, "a value is not acceptable to the database")
    if isinstance(exc, PoolTimeoutError | ConnectionError) or (
        isinstance(exc, DBAPIError) and _is_transient(exc)
    ):
        log.warning("database unavailable (request %s): %s", request_id_of(scope), exc)
        return error_response(scope, 503, "database unavailable, retry shortly")
    # The detail (exception text, SQL, paths) goes to the log only, under the id the client got.
    request_id = request_id_of(scope)
    log.error(
        "unexpected error on %s %s (request %s)",
        scope.get("method"),
        scope.get("path"),
        request_id,
        exc_info=exc,
        extra={"request_id": request_id},
    )
    return error_response(
        scope, 500, f"internal server error; the operator can look it up by request id {request_id}"
    )


def storage_message(exc: StorageError) -> str:
    """What a client is told about a storage failure: never the object's key (its text)."""
    if isinstance(exc, ObjectNotFound):
        return "the object is not in storage (deleted, or never uploaded)"
    if isinstance(exc, StorageIntegrityError):
        return f"{exc.reason}; the stored object was removed"
    if isinstance(exc, InvalidKey):
        return "not a valid object key"
    if isinstance(exc, SignatureError | UploadRejected):
        return str(exc)  # written for clients (storage/local.py): sizes, methods, checksums
    return "object storage refused the request"


def install_error_handlers(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> Response:
        return response_for(request.scope, exc)

    for kind in (
        DomainError,
        StorageError,
        ClientDisconnect,
        RequestValidationError,
        HTTPException,
        DBAPIError,
        PoolTimeoutError,
        ConnectionError,
        Exception,
    ):
        app.add_exception_handler(kind, handle)
