"""What the pages of both clients share: the wire dict, this page's items, the next query."""

from typing import Any, Dict, Generic, Iterator, List, Optional, Type

from ._base_client import next_page_params
from ._models import ModelT

__all__ = ["PageBase"]


class PageBase(Dict[str, Any], Generic[ModelT]):
    """A dict with ``"items"`` (models) and ``"pagination"`` (wire dict), as in 0.2.7."""

    _query: Dict[str, object]
    _cast_to: Type[ModelT]

    @property
    def data(self) -> List[ModelT]:
        """This page's items (same list as ``page["items"]``, typed)."""
        items: List[ModelT] = self["items"]
        return items

    def __iter__(self) -> Iterator[ModelT]:  # type: ignore[override]
        """This page's items; ``dict(page)`` and ``page.keys()`` still give the wire keys."""
        return iter(self.data)

    def has_next_page(self) -> bool:
        """Whether a page follows this one."""
        return self._next_query() is not None

    def _next_query(self) -> Optional[Dict[str, object]]:
        return next_page_params(self._query, self["pagination"], len(self["items"]))

    def __repr__(self) -> str:
        pagination = self.get("pagination") or {}
        where = f"page {pagination.get('page', '?')} of {pagination.get('totalPages', '?')}"
        return f"<{type(self).__name__} {where}: {len(self.data)} {self._cast_to.__name__}>"
