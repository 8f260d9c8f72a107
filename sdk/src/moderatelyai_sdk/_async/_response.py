"""Raw responses: ``client.with_raw_response.<resource>.<method>(...)``.

The wrapped method runs unchanged; every API response it receives is noted in a context variable,
and the last one comes back with the parsed result, so methods that make several requests (an
upload) answer with their final API response.
"""

import contextvars
import inspect
from typing import Any, Callable, Generic, List, Optional, TypeVar

import httpx

from .._base_client import request_id_of

__all__ = ["AsyncRawResponse", "AsyncRawResponseProxy", "note_response"]

T = TypeVar("T")

_captured: "contextvars.ContextVar[Optional[List[httpx.Response]]]" = contextvars.ContextVar(
    "moderatelyai_raw_responses", default=None
)


def note_response(response: httpx.Response) -> None:
    """Called by the client for every API response (cheap when no raw call is running)."""
    captured = _captured.get()
    if captured is not None:
        captured.append(response)


class AsyncRawResponse(Generic[T]):
    """The HTTP response of a call, with its parsed result.

    Example::

        raw = await client.with_raw_response.agents.retrieve(agent_id)
        print(raw.status_code, raw.request_id, raw.headers["content-type"])
        agent = await raw.parse()  # what client.agents.retrieve(agent_id) returns
    """

    def __init__(self, http_response: httpx.Response, parsed: T) -> None:
        self.http_response = http_response
        self._parsed = parsed

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def request_id(self) -> Optional[str]:
        """The server's ``X-Request-Id``: quote it when reporting a problem."""
        return request_id_of(self.http_response)

    async def parse(self) -> T:
        """The result the method returns without ``with_raw_response``."""
        return self._parsed

    def __repr__(self) -> str:
        request = self.http_response.request
        return f"<AsyncRawResponse [{self.status_code}] {request.method} {request.url.path}>"


class AsyncRawResponseProxy:
    """Mirrors a client or resource: methods answer ``AsyncRawResponse``, resources are mirrored
    in turn (``client.with_raw_response.datasets.data_versions.list(...)``)."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name.startswith("_"):
            raise AttributeError(name)
        if callable(value) and not isinstance(value, type):
            return _raw_call(value)
        if hasattr(value, "_client"):  # a resource
            return AsyncRawResponseProxy(value)
        raise AttributeError(f"{name!r} is not an API call")

    def __repr__(self) -> str:
        return f"<raw responses of {self._target!r}>"


def _raw_call(method: Callable[..., Any]) -> Callable[..., Any]:
    async def call(*args: Any, **kwargs: Any) -> AsyncRawResponse[Any]:
        captured: List[httpx.Response] = []
        token = _captured.set(captured)
        try:
            result = method(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        finally:
            _captured.reset(token)
        if not captured:
            raise TypeError(f"{method.__qualname__} made no API request")
        return AsyncRawResponse(captured[-1], result)

    call.__doc__ = method.__doc__
    call.__name__ = getattr(method, "__name__", "call")
    return call
