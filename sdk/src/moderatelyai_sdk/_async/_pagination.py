"""Pages of list results, and iteration across pages."""

from typing import TYPE_CHECKING, Any, AsyncIterator, Dict, Generic, List, Optional, Type

from .._base_client import next_page_params
from .._models import ModelT

if TYPE_CHECKING:
    from ._client import AsyncBaseClient

__all__ = ["AsyncPage"]


class AsyncPage(Dict[str, Any], Generic[ModelT]):
    """One page of a list: a dict with ``"items"`` (models) and ``"pagination"`` (wire dict).

    ``page["items"]`` / ``page.data`` hold this page's models; ``page["pagination"]`` is the
    server's camelCase block (``page``, ``pageSize``, ``totalItems``, ``totalPages``,
    ``hasNextPage``, ``hasPreviousPage``). ``auto_paging_iter()`` walks every item of every page
    from this one on, fetching the next page only when needed.
    """

    def __init__(
        self,
        client: "AsyncBaseClient",
        path: str,
        cast_to: Type[ModelT],
        query: Dict[str, object],
        body: Any,
    ) -> None:
        body = body if isinstance(body, dict) else {}
        super().__init__(body)
        self["items"] = client._cast_list(cast_to, body.get("items") or [])
        self.setdefault("pagination", {})
        self._client = client
        self._path = path
        self._cast_to = cast_to
        self._query = query

    @property
    def data(self) -> List[ModelT]:
        """This page's items (same list as ``page["items"]``, typed)."""
        items: List[ModelT] = self["items"]
        return items

    def has_next_page(self) -> bool:
        """Whether a page follows this one."""
        return self._next_query() is not None

    def _next_query(self) -> Optional[Dict[str, object]]:
        return next_page_params(self._query, self["pagination"], len(self["items"]))

    async def get_next_page(self) -> Optional["AsyncPage[ModelT]"]:
        """Fetch the following page, or return ``None`` on the last one."""
        query = self._next_query()
        if query is None:
            return None
        return await self._client._get_page(self._path, self._cast_to, query)

    async def auto_paging_iter(self) -> AsyncIterator[ModelT]:
        """Every item from this page to the last, fetching pages as it goes (``async for``)."""
        page: Optional[AsyncPage[ModelT]] = self
        while page is not None:
            for item in page.data:
                yield item
            page = await page.get_next_page()
