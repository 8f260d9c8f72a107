"""Wire shapes shared by every endpoint (and the names 0.2.7's ``types`` module had for them)."""

from typing import Any, Dict, List, Literal, Optional, Union

from typing_extensions import TypedDict

from .pagination import PaginationInfo

__all__ = ["APIError", "APIResponse", "ErrorDetail", "HTTPMethod", "JSONValue", "PaginatedResponse"]

HTTPMethod = Literal["GET", "POST", "PATCH", "PUT", "DELETE"]
"""The HTTP methods the API uses."""

JSONValue = Union[str, int, float, bool, None, Dict[str, Any], List[Any]]
"""Any value a JSON document can hold."""


class ErrorDetail(TypedDict, total=False):
    """One item of an error's ``details`` (a 400 names each invalid field)."""

    field: str
    message: str
    value: Any


class APIError(TypedDict, total=False):
    """The ``error`` object of an error response (docs/reference/api.md, Conventions); the
    raised exception is ``moderatelyai_sdk.APIError``."""

    code: str
    message: str
    details: Optional[List[ErrorDetail]]
    timestamp: str
    path: str
    requestId: str


class APIResponse(TypedDict, total=False):
    """An answer that is not an entity, e.g. ``{"success": true, "message": ...}`` of a
    delete."""

    success: bool
    data: Any
    error: APIError
    message: str


class PaginatedResponse(TypedDict):
    """A list answer on the wire: ``items`` and the camelCase ``pagination`` block (the SDK
    hands back ``Page`` / ``AsyncPage`` objects of this shape)."""

    items: List[Any]
    pagination: PaginationInfo
