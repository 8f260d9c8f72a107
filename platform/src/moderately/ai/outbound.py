"""The HTTP client of a provider's SDK client: it reaches only the configured base URL.

`sdk_client` builds an adapter's `openai` or `anthropic` client on it, with the SDK's own
retries off (ai/calls.py retries).

Redirects are not followed, and a request hook refuses any URL that is not under the base URL
(same scheme, host and port, a path below the base path), so nothing a block or an agent
configures (a model name, an option) can send a call, or its key, anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx2

from .providers import Endpoint

__all__ = ["OutboundRefused", "guarded_client", "sdk_client"]

C = TypeVar("C")


class OutboundRefused(Exception):
    """A request to a URL outside the provider's base URL (never sent)."""


def _under(url: httpx2.URL, base: httpx2.URL) -> bool:
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        return False
    prefix = base.path.rstrip("/")
    return url.path == prefix or url.path.startswith(prefix + "/")


def guarded_client(base_url: str, *, timeout: float) -> httpx2.AsyncClient:
    base = httpx2.URL(base_url)

    async def refuse_elsewhere(request: httpx2.Request) -> None:
        if not _under(request.url, base):
            raise OutboundRefused(
                f"refused a provider call to {request.url.scheme}://{request.url.host}"
                f"{request.url.path} (calls go only under {base_url})"
            )

    return httpx2.AsyncClient(
        timeout=httpx2.Timeout(timeout),
        follow_redirects=False,
        event_hooks={"request": [refuse_elsewhere]},
    )


def sdk_client(client_class: Callable[..., C], endpoint: Endpoint, *, timeout: float) -> C:
    """`client_class` (AsyncOpenAI, AsyncAnthropic) for `endpoint`: its key and base URL, no
    retries of its own, `timeout` per request, through the guarded HTTP client."""
    return client_class(
        api_key=endpoint.api_key,
        base_url=endpoint.base_url,
        max_retries=0,
        timeout=timeout,
        http_client=guarded_client(endpoint.base_url, timeout=timeout),
    )
