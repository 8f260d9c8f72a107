"""`Idempotency-Key` on POST: run once, replay the stored first response for repeats."""

from __future__ import annotations

import hashlib
import logging
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from moderately.api.errors import error_response, response_for
from moderately.api.middleware import read_body, replay
from moderately.db.session import Database
from moderately.errors import Forbidden, Unauthorized
from moderately.offload import run_cpu_if_large
from moderately.services import idempotency
from moderately.services.auth import Principal, authenticate, hash_token

log = logging.getLogger("moderately.api")

MAX_KEY_LENGTH = 255
PURGE_INTERVAL_SECONDS = 60.0
# Answers that say nothing about the work and must not be replayed: the retry should run.
_NOT_STORED = frozenset({401, 429})
# Set on `request.state` by a route whose response carries a secret (a new API token's): the
# id of what it created is kept instead of the response.
SECRET_RESOURCE_ID = "secret_resource_id"


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *, database: Database, ttl_seconds: int) -> None:
        self.app = app
        self.database = database
        self.ttl_seconds = ttl_seconds
        # When this process last deleted every expired record (a statement on every keyed POST
        # before; now and then is enough, and an expired key is never answered from).
        self._purged_at = -PURGE_INTERVAL_SECONDS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        authorization = headers.get("authorization", "")
        if not key or not authorization:
            await self.app(scope, receive, send)
            return
        if len(key) > MAX_KEY_LENGTH:
            response = error_response(
                scope,
                400,
                f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters",
                details=[{"field": "Idempotency-Key", "message": "too long"}],
            )
            await response(scope, receive, send)
            return
        body = await read_body(receive)
        token = authorization.partition(" ")[2].strip() or authorization
        # (A large body is hashed in a worker thread: tens of MiB take tenths of a second.)
        request_hash = await run_cpu_if_large(
            len(body), _request_hash, scope["method"], scope["path"], scope["query_string"], body
        )
        try:
            purge = time.monotonic() - self._purged_at >= PURGE_INTERVAL_SECONDS
            async with self.database.session() as session:
                # Nothing is answered for a token that no longer works, replay or not (the
                # token cache honours a revocation as the request's own authentication does).
                principal = await authenticate(session, token=token, cache=self.database.tokens)
                outcome = await idempotency.begin(
                    session,
                    scope=hash_token(token),
                    key=key,
                    request_hash=request_hash,
                    ttl_seconds=self.ttl_seconds,
                    purge_expired=purge,
                )
            if purge:
                self._purged_at = time.monotonic()
        except Unauthorized:  # the app answers the 401 itself; there is nothing to keep
            await self.app(scope, replay(body, receive), send)
            return
        except Exception as exc:  # a database failure here is answered like anywhere else
            await response_for(scope, exc)(scope, receive, send)
            return
        if isinstance(outcome, idempotency.Replay | idempotency.SecretNotKept):
            # Authorized as the first request was, by the caller's roles as they are now.
            try:
                for team_id, role in outcome.authorization:
                    principal.require_role(role, team_id)
            except Forbidden as exc:
                await error_response(scope, 403, exc.message)(scope, receive, send)
                return
        if isinstance(outcome, idempotency.SecretNotKept):
            response = error_response(
                scope,
                409,
                f"this Idempotency-Key already created API token {outcome.resource_id}; "
                "its secret was shown once, in the first response, and is not kept to replay",
                code="IDEMPOTENCY_KEY_REUSED_SECRET",
                details=[
                    {
                        "field": "Idempotency-Key",
                        "message": "the request it was used for created a secret",
                        "value": outcome.resource_id,
                    }
                ],
                headers={"Idempotent-Replayed": "true"},
            )
            await response(scope, receive, send)
            return
        if isinstance(outcome, idempotency.Replay):
            await _send_replay(outcome, send)
            return
        if isinstance(outcome, idempotency.Mismatch):
            response = error_response(
                scope,
                400,
                "this Idempotency-Key was already used for a different request",
                code="IDEMPOTENCY_KEY_REUSED",
                details=[{"field": "Idempotency-Key", "message": "reused with another request"}],
            )
            await response(scope, receive, send)
            return
        if isinstance(outcome, idempotency.InFlight):
            response = error_response(
                scope,
                409,
                "a request with this Idempotency-Key is still in progress",
                code="IDEMPOTENCY_KEY_IN_USE",
                headers={"Retry-After": "1"},
                retry=True,
            )
            await response(scope, receive, send)
            return
        await self._run_and_store(outcome.record_id, scope, replay(body, receive), send)

    async def _run_and_store(
        self, record_id: int, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run the request with its response held back; store it, then send it.

        The record is final before the client sees a byte, so a repeat sent the moment the
        response arrives is replayed instead of finding the key still in flight. Keyed POSTs
        answer small JSON documents, so holding one in memory costs nothing.
        """
        start: Message | None = None
        chunks: list[bytes] = []
        finished = False

        async def hold(message: Message) -> None:
            nonlocal start, finished
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                finished = not message.get("more_body", False)

        try:
            await self.app(scope, receive, hold)
        except BaseException:
            await self._forget(record_id)
            raise
        if start is None or not finished:
            await self._forget(record_id)
            if start is not None:  # a response the app never finished: pass on what there is
                await _send_held(send, start, chunks)
            return
        status: int = start["status"]
        state = scope.get("state", {})
        principal: Principal | None = state.get("principal")
        if status >= 500 or status in _NOT_STORED or principal is None:
            await self._forget(record_id)
        else:
            try:
                async with self.database.session() as session:
                    await idempotency.finish(
                        session,
                        record_id=record_id,
                        status_code=status,
                        content_type=Headers(raw=start.get("headers", [])).get("content-type"),
                        body=b"".join(chunks).decode("utf-8", "replace"),
                        authorization=principal.checks,
                        secret_resource_id=state.get(SECRET_RESOURCE_ID),
                    )
            except Exception:  # a lost record only costs a re-run of a repeat
                log.warning("could not store idempotency record %s", record_id, exc_info=True)
                await self._forget(record_id)
        await _send_held(send, start, chunks)

    async def _forget(self, record_id: int) -> None:
        try:
            async with self.database.session() as session:
                await idempotency.abandon(session, record_id=record_id)
        except Exception:  # the record expires on its own; never mask the original outcome
            log.warning("could not release idempotency record %s", record_id, exc_info=True)


def _request_hash(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


async def _send_held(send: Send, start: Message, chunks: list[bytes]) -> None:
    await send(start)
    await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": False})


async def _send_replay(outcome: idempotency.Replay, send: Send) -> None:
    headers = [(b"idempotent-replayed", b"true")]
    if outcome.status_code >= 400:
        # The same answer comes back for as long as the record lives: retrying cannot help.
        headers.append((b"x-should-retry", b"false"))
    if outcome.content_type:
        headers.append((b"content-type", outcome.content_type.encode("latin-1")))
    body = outcome.body.encode("utf-8")
    if outcome.status_code != 204:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": outcome.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body if outcome.status_code != 204 else b""})
