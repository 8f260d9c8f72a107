"""Request JSON: parsed once, within bounds, and off the event loop when large.

Every router is built with `route_class=BoundedJSONRoute`; its requests are `BoundedJSONRequest`s,
whose `json()` (what FastAPI calls to read a JSON body) parses the body and checks the document,
in a worker thread when the body is larger than `offload.OFFLOAD_BYTES` (inline below that, where
it takes well under a millisecond). The checks:

* nesting at most `MAX_DEPTH` levels (the parser's own recursion never surfaces: a document too
  deep for it is refused the same way);
* arrays of at most `MAX_ARRAY_ITEMS` items;
* strings (values and keys) of at most `MAX_STRING_CHARS` characters;
* integers of at most Python's digit limit (4300).

A document beyond a bound answers 400 naming it (field `body`); malformed JSON stays FastAPI's
400. The body itself is bounded before any of this (api/body_limit.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any, Final

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from moderately.errors import Invalid
from moderately.offload import run_cpu_if_large

MAX_DEPTH: Final = 64
MAX_ARRAY_ITEMS: Final = 100_000
MAX_STRING_CHARS: Final = 4 * 1024 * 1024


class JSONBoundExceeded(HTTPException):
    """A request document beyond a bound. An HTTPException only so that FastAPI's body reading
    lets it through unchanged; `BoundedJSONRoute` answers it as a 400 naming the bound."""

    def __init__(self, message: str) -> None:
        super().__init__(status_code=400, detail=message)


def load_bounded(body: bytes) -> Any:
    """`json.loads(body)`, refusing documents beyond the bounds (`JSONBoundExceeded`).

    Malformed JSON raises `json.JSONDecodeError`, as `json.loads` does.
    """
    try:
        document = json.loads(body)
    except RecursionError:
        raise JSONBoundExceeded(_too_deep()) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # an integer beyond the interpreter's digit limit
        raise JSONBoundExceeded(f"a number in the JSON body is too long: {exc}") from None
    # Every character of a JSON string takes at least one byte of the body.
    check_bounds(document, strings=len(body) > MAX_STRING_CHARS)
    return document


def check_bounds(document: Any, *, strings: bool = True) -> None:
    """Raise `JSONBoundExceeded` at the first bound `document` passes.

    Level by level (no recursion however deep; one pass over the values, the work of a
    fraction of the parse). `strings=False` skips the string lengths (for a body too short to
    hold a string over the bound).
    """
    if type(document) is str:
        if strings:
            _check_string(document)
        return
    level = [document] if type(document) in (dict, list) else []
    depth = 1
    while level:
        if depth > MAX_DEPTH:
            raise JSONBoundExceeded(_too_deep())
        below: list[Any] = []
        for container in level:
            if type(container) is list:
                if len(container) > MAX_ARRAY_ITEMS:
                    raise JSONBoundExceeded(
                        f"an array in the JSON body has {len(container)} items; "
                        f"at most {MAX_ARRAY_ITEMS} are accepted"
                    )
                values = container
            else:
                if strings and container and max(map(len, container)) > MAX_STRING_CHARS:
                    _check_string(max(container, key=len))
                values = container.values()
            for value in values:
                kind = type(value)
                if kind is dict or kind is list:
                    below.append(value)
                elif strings and kind is str and len(value) > MAX_STRING_CHARS:
                    _check_string(value)
        level = below
        depth += 1


def _check_string(value: str) -> None:
    if len(value) > MAX_STRING_CHARS:
        raise JSONBoundExceeded(
            f"a string in the JSON body has {len(value)} characters; "
            f"at most {MAX_STRING_CHARS} are accepted"
        )


def _too_deep() -> str:
    return f"the JSON body is nested more than {MAX_DEPTH} levels deep"


class BoundedJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self._json = await run_cpu_if_large(len(body), load_bounded, body)
        return self._json


class BoundedJSONRoute(APIRoute):
    """An APIRoute whose handler reads its request as a `BoundedJSONRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            try:
                return await handle(
                    BoundedJSONRequest(request.scope, request.receive, request._send)
                )
            except JSONBoundExceeded as exc:
                raise Invalid(exc.detail, field="body") from None

        return bounded
