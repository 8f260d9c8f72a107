"""Datasets arrive with issue 4; until then, only the check other services need.

The seam: `PATCH /files/{id}` and `POST /files/upload-url` accept a `datasetId`, which must name a
dataset of the file's team. With no datasets yet, every non-null id names nothing.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from moderately.errors import NotFound


async def require_dataset(session: AsyncSession, *, team_id: str, dataset_id: str) -> None:
    """Raise NotFound unless `dataset_id` is a dataset of `team_id` (issue 4 fills this in)."""
    raise NotFound("dataset", dataset_id)
