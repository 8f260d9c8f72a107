"""The HTTP client of a provider's SDK client: it reaches only the configured base URL.

Redirects are not followed, and a request hook refuses any URL that is not under the base URL
(same scheme, host and port, a path below the base path), so nothing a block or an agent
configures (a model name, an option) can send a call, or its key, anywhere else.
"""

from __future__ import annotations

import httpx2

__all__ = ["OutboundRefused", "guarded_client"]


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
