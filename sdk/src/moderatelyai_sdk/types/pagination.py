from typing_extensions import TypedDict

__all__ = ["PaginationInfo"]


class PaginationInfo(TypedDict, total=False):
    """The ``pagination`` block of a list response, as sent on the wire (camelCase)."""

    page: int
    pageSize: int
    totalItems: int
    totalPages: int
    hasNextPage: bool
    hasPreviousPage: bool
