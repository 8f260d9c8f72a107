"""Users resource."""

from typing import Any, Dict, Optional

from typing_extensions import Unpack

from ... import _io_async
from ..._base_client import RequestOptions, list_query, make_body, path_param, split_options
from ...types.team import Team
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

    async def update(self, user_id: str, *, full_name: str, **kwargs: Any) -> UserAsyncModel:
        """Update an existing user.

        Args:
            user_id: The ID of the user to update.
            full_name: The user's new full name.
            **kwargs: Other fields to update (e.g. ``nickname``), sent with camelCase keys; the
                request options (``timeout``, ``extra_headers``, ...) are taken out first.

        Raises:
            NotFoundError: If the user doesn't exist.
            ValidationError: If the request data is invalid.

        Wire: ``PATCH /users/{userId}``
        """
        options, kwargs = split_options(kwargs)
        body = make_body({"fullName": full_name}, kwargs)
        return await self._update(user_id, body, options=options)

    async def _update(
        self, user_id: str, body: Dict[str, Any], *, options: Optional[RequestOptions] = None
    ) -> UserAsyncModel:
        # Shared with UserAsyncModel.update_profile, which may send only some fields.
        path = f"/users/{path_param(user_id, 'user_id')}"
        return await self._patch(path, UserAsyncModel, body=body, options=options)

    async def _list_teams(
        self, user_id: str, *, options: Optional[RequestOptions] = None
    ) -> AsyncPage[Team]:
        query = list_query(page=1, page_size=100, order_by=None, order_direction=None)
        path = f"/users/{path_param(user_id, 'user_id')}/teams"
        return await self._get_page(path, Team, query=query, options=options)
