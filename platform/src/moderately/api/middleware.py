"""Wire-level liberties and bookkeeping, applied once before FastAPI parses anything.

* X-Request-Id on every response (the id also lands in error envelopes).
* Query keys: snake_case spellings and 0.2.7's aliases become the canonical camelCase keys
  (camelCase wins when both are sent); snake_case sort values become camelCase.
* NUL characters are dropped from query values: no stored text can contain one (PostgreSQL refuses
  them), so they could never match, and the database would otherwise reject the query.
* A JSON request with an empty body is read as `{}`.
* Per-token usage is counted when the response is done.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from moderately.api.errors import request_id_of
from moderately.services.usage import UsageRecorder

# Keys 0.2.7 sends under another name; anything else snake_case is camelised.
QUERY_KEY_ALIASES = {"agent_id": "agentIds", "dataset_ids": "datasetIds", "mime_type": "mimeTypes"}
# Aliases that only hold on one collection.
PATH_QUERY_KEY_ALIASES = {
    "/agent-executions": {"status": "statuses"},
    "/files": {"status": "uploadStatus", "dataset_id": "datasetId"},
}
SORT_VALUE_ALIASES = {"/files": {"name": "fileName"}}
# The local store's transfer routes (api/storage.py): raw bytes, never a JSON document.
STORAGE_COLLECTION = "/_storage"
_SNAKE_PART = re.compile(r"_([a-z0-9])")
_BODY_METHODS = frozenset({b"POST", b"PUT", b"PATCH"})


def camelise(name: str) -> str:
    return _SNAKE_PART.sub(lambda m: m.group(1).upper(), name)


def collection_of(path: str, prefix: str) -> str:
    path = path[len(prefix) :] if prefix and path.startswith(prefix) else path
    return "/" + path.strip("/").split("/", 1)[0]


def normalise_query(query: str, collection: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        return query
    local = PATH_QUERY_KEY_ALIASES.get(collection, {})
    sent = {key for key, _ in pairs}
    out: list[tuple[str, str]] = []
    for key, value in pairs:
        canonical = local.get(key) or QUERY_KEY_ALIASES.get(key) or camelise(key)
        if canonical != key and canonical in sent:
            continue  # the camelCase spelling was sent too, and it wins
        if canonical == "orderBy":
            value = SORT_VALUE_ALIASES.get(collection, {}).get(value) or camelise(value)
        out.append((canonical, value.replace("\x00", "")))
    return urlencode(out)


class WireMiddleware:
    def __init__(self, app: ASGIApp, *, usage: UsageRecorder, prefix: str = "") -> None:
        self.app = app
        self.usage = usage
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        query = scope.get("query_string", b"")
        if query:
            collection = collection_of(scope["path"], self.prefix)
            normalised = normalise_query(query.decode("latin-1"), collection)
            scope["query_string"] = normalised.encode("latin-1")
        if (
            scope["method"].encode() in _BODY_METHODS
            and _is_json(scope)
            and collection_of(scope["path"], self.prefix) != STORAGE_COLLECTION
        ):
            # (An upload of a JSON file to a storage URL streams through untouched.)
            receive = await _empty_body_as_object(receive)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:
                    headers["X-Request-Id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            token_id = scope.get("state", {}).get("token_id")
            route = scope.get("route")
            if token_id is not None:
                self.usage.record(
                    token_id=token_id,
                    method=scope["method"],
                    endpoint=getattr(route, "path", None) or scope["path"],
                    status=status,
                    duration_ms=(time.perf_counter() - started) * 1000.0,
                )


def _is_json(scope: Scope) -> bool:
    content_type = Headers(scope=scope).get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands out `body` once, then defers to the real one (disconnects)."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


async def _empty_body_as_object(receive: Receive) -> Receive:
    body = await read_body(receive)
    return replay(body if body.strip() else b"{}", receive)
