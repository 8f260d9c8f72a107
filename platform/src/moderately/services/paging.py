"""Offset paging and sorting shared by every list (docs/reference/api.md, Paging)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from moderately.errors import Invalid

T = TypeVar("T")


@dataclass(frozen=True)
class PageParams:
    page: int = 1
    page_size: int = 10
    order_by: str | None = None  # a wire sort value, e.g. "createdAt"
    order_direction: str | None = None  # "asc" | "desc"; None: the endpoint's default


@dataclass(frozen=True)
class Pagination:
    page: int
    page_size: int
    total_items: int
    total_pages: int
    has_next_page: bool
    has_previous_page: bool


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    pagination: Pagination


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    params: PageParams,
    sort_columns: Mapping[str, InstrumentedAttribute[Any]],
    id_column: InstrumentedAttribute[str],
    default_direction: str = "asc",
) -> Page[Any]:
    """Count, sort (ties broken by id so pages are stable) and slice `stmt`."""
    order_by = params.order_by or "createdAt"
    column = sort_columns.get(order_by)
    if column is None:
        raise Invalid(
            f"orderBy must be one of: {', '.join(sort_columns)}", field="orderBy", value=order_by
        )
    direction = params.order_direction or default_direction
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    total = int(total or 0)
    offset = (params.page - 1) * params.page_size
    items: Sequence[Any] = []
    # A page past the end is a valid, empty page; skip the query (and huge OFFSET values).
    if offset < total:
        keys = (column, id_column)
        ordering = [k.desc() if direction == "desc" else k.asc() for k in keys]
        rows = await session.scalars(
            stmt.order_by(*ordering).offset(offset).limit(params.page_size)
        )
        items = rows.all()
    total_pages = -(-total // params.page_size)
    return Page(
        items=items,
        pagination=Pagination(
            page=params.page,
            page_size=params.page_size,
            total_items=total,
            total_pages=total_pages,
            has_next_page=params.page < total_pages,
            has_previous_page=params.page > 1,
        ),
    )


def split_values(values: Sequence[str] | None) -> list[str]:
    """Repeated keys, comma lists and mixtures: split, trim, drop empties, de-duplicate."""
    seen: dict[str, None] = {}
    for value in values or ():
        for part in value.split(","):
            part = part.strip()
            if part:
                seen.setdefault(part, None)
    return list(seen)


def like_pattern(text: str) -> str:
    """A case-insensitive substring pattern; the user's % and _ match themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
