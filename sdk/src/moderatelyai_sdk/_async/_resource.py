"""Base class of the resources: the client plus one-line request shortcuts."""

from typing import TYPE_CHECKING, Any, Dict, Optional, Type

from .._base_client import Query
from .._models import ModelT
from ._pagination import AsyncPage

if TYPE_CHECKING:
    from ._client import AsyncBaseClient

__all__ = ["AsyncBaseResource"]


class AsyncBaseResource:
    """A group of API operations bound to one client."""

    def __init__(self, client: "AsyncBaseClient") -> None:
        self._client = client

    async def _get(
        self, path: str, cast_to: Type[ModelT], *, query: Optional[Query] = None
    ) -> ModelT:
        return self._client._cast(cast_to, await self._client._request("GET", path, query=query))

    async def _get_page(
        self, path: str, cast_to: Type[ModelT], *, query: Dict[str, object]
    ) -> AsyncPage[ModelT]:
        return await self._client._get_page(path, cast_to, query)

    async def _post(self, path: str, cast_to: Type[ModelT], *, body: Any) -> ModelT:
        return self._client._cast(cast_to, await self._client._request("POST", path, body=body))

    async def _patch(self, path: str, cast_to: Type[ModelT], *, body: Any) -> ModelT:
        return self._client._cast(cast_to, await self._client._request("PATCH", path, body=body))

    async def _delete(self, path: str) -> None:
        await self._client._request("DELETE", path)
