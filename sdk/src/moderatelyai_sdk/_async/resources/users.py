"""Users resource."""

from typing import Any, List, Optional

from typing_extensions import Unpack

from ... import _io_async
from ..._base_client import (
    EXTENSION_USER_TEAMS,
    RequestOptions,
    list_query,
    make_body,
    path_param,
    split_options,
)
from ..._exceptions import NotFoundError, PermissionDeniedError
from ...types.team import Team, TeamUser
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource
from ..models.user import UserAsyncModel

__all__ = ["AsyncUsers"]


class AsyncUsers(AsyncBaseResource):
    """Manage users in your organization.

    Users can be listed, read and updated; creating and removing users is an operator task
    (``moderately admin create-user``). Every method returns ``UserAsyncModel`` objects.

    Example::

        page = await client.users.list(page_size=20)
        user = await client.users.retrieve("user_123")
        print(user.display_name(), user.formatted_created_at())
        user = await user.update_profile(nickname="Jo")
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
    ) -> AsyncPage[UserAsyncModel]:
        """List users with pagination.

        Args:
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-1000). Defaults to 10.
            order_by: Field to sort by ("created_at" or "full_name"). Defaults to "created_at".
            order_direction: Sort direction ("asc" or "desc"). Defaults to "desc".

        Returns:
            A page: ``["items"]`` holds ``UserAsyncModel`` objects, ``["pagination"]`` the paging
            info; ``auto_paging_iter()`` walks every user.

        Wire: ``GET /users``
        """
        query = list_query(
            page=page, page_size=page_size, order_by=order_by, order_direction=order_direction
        )
        return await self._get_page("/users", UserAsyncModel, query=query, options=options)

    async def retrieve(self, user_id: str, **options: Unpack[RequestOptions]) -> UserAsyncModel:
        """Retrieve a specific user by ID.

        Args:
            user_id: The ID of the user to retrieve.

        Raises:
            NotFoundError: If the user doesn't exist (or is not visible to you).

        Wire: ``GET /users/{userId}``
        """
        path = f"/users/{path_param(user_id, 'user_id')}"
        return await self._get(path, UserAsyncModel, options=options)

    async def update(
        self, user_id: str, *, full_name: Optional[str], **kwargs: Any
    ) -> UserAsyncModel:
        """Update an existing user; only the given fields change.

        Args:
            user_id: The ID of the user to update.
            full_name: The user's new full name (``None``: unchanged).
            **kwargs: Other fields to update (e.g. ``nickname``), sent with camelCase keys; the
                request options (``timeout``, ``extra_headers``, ...) are taken out first.

        Raises:
            NotFoundError: If the user doesn't exist.
            ValidationError: If the request data is invalid.

        Wire: ``PATCH /users/{userId}``
        """
        options, kwargs = split_options(kwargs)
        body = make_body({"fullName": full_name}, kwargs)
        path = f"/users/{path_param(user_id, 'user_id')}"
        return await self._patch(path, UserAsyncModel, body=body, options=options)

    async def list_teams(self, user_id: str, **options: Unpack[RequestOptions]) -> List[Team]:
        """Every team of a user that you can see (all pages).

        On a server that offers the ``user-teams`` extension this is one list; otherwise the
        published API answers it: the user's memberships, then each of their teams (a team you
        cannot see is left out).

        Args:
            user_id: The ID of the user.

        Wire: ``GET /users/{userId}/teams`` (extension), else ``GET /team-users?userIds=`` and
        ``GET /teams/{teamId}``
        """
        user_path = f"/users/{path_param(user_id, 'user_id')}"
        query = list_query(page=1, page_size=100, order_by=None, order_direction=None)
        if EXTENSION_USER_TEAMS in await self._client._extensions():
            page = await self._get_page(f"{user_path}/teams", Team, query=query, options=options)
            return [team async for team in page.auto_paging_iter()]
        query["userIds"] = user_id
        memberships = await self._get_page("/team-users", TeamUser, query=query, options=options)
        teams: List[Team] = []
        async for membership in memberships.auto_paging_iter():
            team_path = f"/teams/{path_param(membership.team_id, 'team_id')}"
            try:
                teams.append(await self._get(team_path, Team, options=options))
            except (NotFoundError, PermissionDeniedError):
                continue  # a team the caller does not share
        return teams
