"""Teams resource."""

from typing import Any, Optional

from typing_extensions import Unpack

from ... import _io_async
from ..._base_client import (
    EXTENSION_TEAM_DELETE,
    RequestOptions,
    list_query,
    make_body,
    path_param,
    split_options,
)
from ...types.team import Team
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource

__all__ = ["AsyncTeams"]


class AsyncTeams(AsyncBaseResource):
    """Manage teams in your organization.

    Example::

        team = await client.teams.create(name="Engineering Team", description="Builds things")
        team = await client.teams.update(team.team_id, name="Platform Team")
        await client.teams.delete(team.team_id)
    """

    @_io_async.paginated
    async def list(
        self,
        *,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "created_at",
        order_direction: str = "desc",
        **options: Unpack[RequestOptions],
    ) -> AsyncPage[Team]:
        """List teams with pagination.

        Note: like every call, this is filtered to the client's team (``teamIds``).

        Args:
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-1000). Defaults to 10.
            order_by: Field to sort by ("created_at", "updated_at" or "name"). Defaults to
                "created_at".
            order_direction: Sort direction ("asc" or "desc"). Defaults to "desc".

        Wire: ``GET /teams``
        """
        query = list_query(
            page=page, page_size=page_size, order_by=order_by, order_direction=order_direction
        )
        return await self._get_page("/teams", Team, query=query, options=options)

    async def retrieve(self, team_id: str, **options: Unpack[RequestOptions]) -> Team:
        """Retrieve a specific team by ID.

        Args:
            team_id: The ID of the team to retrieve.

        Raises:
            NotFoundError: If the team doesn't exist.

        Wire: ``GET /teams/{teamId}``
        """
        return await self._get(_team_path(team_id), Team, options=options)

    async def create(self, *, name: str, description: Optional[str] = None, **kwargs: Any) -> Team:
        """Create a new team; you become its admin.

        Args:
            name: The team name (1-255 characters).
            description: Optional description of the team.
            **kwargs: Additional team properties, sent with camelCase keys; the request
                options (``timeout``, ``extra_headers``, ...) are taken out first.

        Raises:
            ValidationError: If the request data is invalid.

        Wire: ``POST /teams`` (answers 200)
        """
        options, kwargs = split_options(kwargs)
        body = make_body({"name": name, "description": description}, kwargs)
        return await self._post("/teams", Team, body=body, options=options)

    async def update(
        self,
        team_id: str,
        *,
        name: Optional[str] = None,
        description: Optional[str] = None,
        **kwargs: Any,
    ) -> Team:
        """Update an existing team; only the given fields change.

        Args:
            team_id: The ID of the team to update.
            name: New team name.
            description: New description.
            **kwargs: Additional properties to update, sent with camelCase keys; the request
                options (``timeout``, ``extra_headers``, ...) are taken out first.

        Raises:
            NotFoundError: If the team doesn't exist.
            ValidationError: If the request data is invalid.

        Wire: ``PATCH /teams/{teamId}``
        """
        options, kwargs = split_options(kwargs)
        body = make_body({"name": name, "description": description}, kwargs)
        return await self._patch(_team_path(team_id), Team, body=body, options=options)

    async def delete(self, team_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a team and everything in it (team admins only).

        Args:
            team_id: The ID of the team to delete.

        Raises:
            NotFoundError: If the team doesn't exist, or the server does not offer the
                ``team-delete`` extension (the message says which).

        Wire: ``DELETE /teams/{teamId}`` (an extension of the published API:
        docs/reference/api.md, Extensions)
        """
        path = _team_path(team_id)
        await self._in_extension(
            EXTENSION_TEAM_DELETE,
            "DELETE /teams/{teamId}",
            lambda: self._delete(path, options=options),
        )


def _team_path(team_id: str) -> str:
    return f"/teams/{path_param(team_id, 'team_id')}"
