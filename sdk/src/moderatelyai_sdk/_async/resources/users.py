"""Users resource."""

from typing import Any, Dict

from ..._base_client import list_query, make_body, path_param
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

    async def list(
        self,
        *,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "created_at",
        order_direction: str = "desc",
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
        return await self._get_page("/users", UserAsyncModel, query=query)

    async def retrieve(self, user_id: str) -> UserAsyncModel:
        """Retrieve a specific user by ID.

        Args:
            user_id: The ID of the user to retrieve.

        Raises:
            NotFoundError: If the user doesn't exist (or is not visible to you).

        Wire: ``GET /users/{userId}``
        """
        return await self._get(f"/users/{path_param(user_id, 'user_id')}", UserAsyncModel)

    async def update(self, user_id: str, *, full_name: str, **kwargs: Any) -> UserAsyncModel:
        """Update an existing user.

        Args:
            user_id: The ID of the user to update.
            full_name: The user's new full name.
            **kwargs: Other fields to update (e.g. ``nickname``), sent with camelCase keys.

        Raises:
            NotFoundError: If the user doesn't exist.
            ValidationError: If the request data is invalid.

        Wire: ``PATCH /users/{userId}``
        """
        return await self._update(user_id, make_body({"fullName": full_name}, kwargs))

    async def _update(self, user_id: str, body: Dict[str, Any]) -> UserAsyncModel:
        # Shared with UserAsyncModel.update_profile, which may send only some fields.
        return await self._patch(
            f"/users/{path_param(user_id, 'user_id')}", UserAsyncModel, body=body
        )

    async def _list_teams(self, user_id: str) -> AsyncPage[Team]:
        query = list_query(page=1, page_size=100, order_by=None, order_direction=None)
        path = f"/users/{path_param(user_id, 'user_id')}/teams"
        return await self._get_page(path, Team, query=query)
