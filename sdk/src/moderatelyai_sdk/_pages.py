"""What the pages of both clients share: the wire dict, this page's items, the next query."""

import functools
import re
from typing import Any, Dict, Generic, Iterator, List, Optional, Tuple, Type

import httpx
import pydantic
from pydantic import ConfigDict, TypeAdapter
from typing_extensions import TypedDict

from ._base_client import next_page_params, parse_body, request_id_of
from ._models import BaseModel, ModelT, bind, validate_list

__all__ = ["PageBase", "read_page"]

# A page body whose first key is "items", the order in which the API sends a list.
_ITEMS_FIRST = re.compile(rb'\s*\{\s*"items"\s*:')


@functools.cache
def _page_adapter(cls: Type[BaseModel]) -> "TypeAdapter[Dict[str, Any]]":
    """A page body: ``items`` as models of ``cls`` (or null), every other key as it is."""
    fields: Dict[str, Any] = {"items": Optional[List[cls]]}  # type: ignore[valid-type]
    make: Any = TypedDict  # built per model class, which type checkers cannot follow
    shape = make(f"{cls.__name__}Page", fields, total=False)
    shape.__pydantic_config__ = ConfigDict(extra="allow")
    return TypeAdapter(shape)


def read_page(
    cls: Type[ModelT], response: httpx.Response, client: Any
) -> Tuple[Dict[str, Any], Optional[str]]:
    """A list answer's JSON body, its ``items`` as models of ``cls`` bound to ``client`` (``[]``
    when absent or null), and its request id.

    Like ``read_model``: straight from the bytes when the body starts with ``items`` (so the
    keys keep the wire order), else decoded first; a body that pydantic refuses takes the
    general path and raises what it always did.
    """
    request_id = request_id_of(response)
    content = response.content
    if response.status_code != 204 and _ITEMS_FIRST.match(content):
        try:
            body = _page_adapter(cls).validate_json(content)
        except pydantic.ValidationError:
            pass
        else:
            items = body.get("items") or []
            for item in items:
                bind(item, client, request_id)
            body["items"] = items
            return body, request_id
    answer = parse_body(response)
    wire: Dict[str, Any] = answer if isinstance(answer, dict) else {}
    items = validate_list(cls, wire.get("items") or [], client, request_id)
    return {**wire, "items": items}, request_id


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
