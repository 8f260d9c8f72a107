"""Request bodies of at most `max_request_body_bytes`, refused before anything reads them.

The outermost middleware, so it acts before authentication and before anything buffers a body
(the wire rules read JSON bodies whole; idempotency hashes them):

* a `Content-Length` over the limit answers 413 at once: nothing is read and the app never runs;
* a body without one (chunked) is counted as it arrives, and the first message that takes the
  count over the limit ends the request: whoever was reading it is stopped with
  `RequestBodyTooLarge`, and the client gets the 413 instead of any other answer.

The 413 carries the error envelope and `Connection: close`: the server stops reading the rest of
the body, so a client still sending learns of the refusal early instead of after uploading
everything. The local store's presigned transfer routes (`/_storage/...`, api/storage.py) are
exempt: they stream to disk and enforce the signed size and the upload limit themselves.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from moderately.api.errors import error_response
from moderately.api.middleware import STORAGE_COLLECTION, collection_of


class RequestBodyTooLarge(HTTPException):
    """Raised from `receive` once a body passes the limit. An HTTPException so that FastAPI's
    own body reading passes it on unchanged (it wraps other errors as a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit))


def too_large_message(limit: int) -> str:
    return f"the request body is larger than the limit of {limit} bytes"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, prefix: str = "") -> None:
        self.app = app
        self.limit = max_body_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or collection_of(scope["path"], self.prefix) == STORAGE_COLLECTION
        ):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise RequestBodyTooLarge(self.limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    raise RequestBodyTooLarge(self.limit)
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if exceeded:
                    # Whatever answered (the app's own 413), the rest of the body is not read.
                    MutableHeaders(scope=message)["Connection"] = "close"
            await send(message)

        try:
            await self.app(scope, counting_receive, closing_send)
        except RequestBodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            scope, 413, too_large_message(self.limit), headers={"Connection": "close"}
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None  # the server refuses a malformed one before the app runs
