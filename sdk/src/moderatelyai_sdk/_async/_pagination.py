"""Pages of list results, and iteration across pages."""

from typing import Any, AsyncIterator, Dict, Optional, Type

from typing_extensions import Protocol

from .._base_client import RequestOptions
from .._models import ModelT
from .._pages import PageBase

__all__ = ["AsyncPage", "PageClient"]


class PageClient(Protocol):
    """What a page needs of the client that fetched it (a protocol, so that this module imports
    no client module: the client imports the pages)."""

    async def _get_page(
        self,
        path: str,
        cast_to: Type[ModelT],
        query: Dict[str, object],
        options: Optional[RequestOptions] = None,
    ) -> "AsyncPage[ModelT]": ...


class AsyncPage(PageBase[ModelT]):
    """One page of a list.

    ``async for`` over a page walks every item of every page from this one on, fetching the next
    page only when needed (as does ``auto_paging_iter()``); a plain ``for`` gives this page's
    items. The page also reads like the wire dict, as in moderatelyai-sdk 0.2.7:
    ``page["items"]`` (same list as ``page.data``) and ``page["pagination"]``, the server's
    camelCase block (``page``, ``pageSize``, ``totalItems``, ``totalPages``, ``hasNextPage``,
    ``hasPreviousPage``).
    """

    def __init__(
        self,
        client: PageClient,
        path: str,
        cast_to: Type[ModelT],
        query: Dict[str, object],
        wire: Dict[str, Any],
        options: Optional[RequestOptions] = None,
        request_id: Optional[str] = None,
    ) -> None:
        """``wire``: the answer's JSON body with its ``items`` already models (``read_page``)."""
        super().__init__(wire)
        self.setdefault("pagination", {})
        self._client = client
        self._path = path
        self._cast_to = cast_to
        self._query = query
        self._options = options
        self._request_id = request_id

    async def get_next_page(self) -> Optional["AsyncPage[ModelT]"]:
        """Fetch the following page (same filters and request options), or return ``None`` on
        the last one.

        Wire: the list's own ``GET`` with the next ``page``
        """
        query = self._next_query()
        if query is None:
            return None
        return await self._client._get_page(self._path, self._cast_to, query, self._options)

    async def auto_paging_iter(self) -> AsyncIterator[ModelT]:
        """Every item from this page to the last, fetching pages as it goes (``async for``)."""
        page: Optional[AsyncPage[ModelT]] = self
        while page is not None:
            for item in page.data:
                yield item
            page = await page.get_next_page()

    def __aiter__(self) -> AsyncIterator[ModelT]:  # type: ignore[override,unused-ignore]
        return self.auto_paging_iter()
