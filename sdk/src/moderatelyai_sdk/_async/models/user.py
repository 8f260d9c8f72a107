"""``UserAsyncModel``: a user plus helpers that call the API through its client."""

from datetime import datetime, timedelta, timezone
from typing import Any, List, Optional, cast

from typing_extensions import Protocol

from ..._models import parse_timestamp
from ...types.team import Team
from ...types.user import User

__all__ = ["UserAsyncModel", "UsersAPI"]


class UserAsyncModel(User):
    """A user with rich operations. Attributes: ``user_id``, ``full_name``, ``nickname``,
    ``created_at``, ``updated_at``; wire keys work too (``user["fullName"]``)."""

    @property
    def _users(self) -> "UsersAPI":
        if self._client is None:
            raise RuntimeError("This user was not returned by a client, so it cannot call the API")
        return cast(_UsersClient, self._client).users

    def display_name(self) -> str:
        """The nickname if set, else the full name."""
        return self.nickname or self.full_name

    def has_nickname(self) -> bool:
        """Whether a non-blank nickname is set."""
        return bool(self.nickname and self.nickname.strip())

    def formatted_created_at(self, format_str: str = "%Y-%m-%d %H:%M:%S") -> Optional[str]:
        """Creation time (UTC) formatted with ``format_str``; the raw value if unparsable."""
        created = parse_timestamp(self.created_at)
        return created.strftime(format_str) if created else self.created_at

    def is_recent(self, days: int = 7) -> bool:
        """Whether the user was created within the last ``days`` days."""
        created = parse_timestamp(self.created_at)
        return created is not None and datetime.now(timezone.utc) - created <= timedelta(days=days)

    async def update_profile(
        self, *, full_name: Optional[str] = None, nickname: Optional[str] = None, **kwargs: Any
    ) -> "UserAsyncModel":
        """Update only the given fields and refresh this object from the answer.

        Args:
            full_name: New full name.
            nickname: New nickname.
            **kwargs: Other fields, sent with camelCase keys.

        Returns:
            This same object, updated.

        Wire: ``PATCH /users/{userId}``
        """
        given = {"nickname": nickname} if nickname is not None else {}
        # users.update leaves out the fields given as None, full_name too: only the given
        # fields are sent.
        fresh = await self._users.update(self.user_id, full_name=full_name, **given, **kwargs)
        self._replace_with(fresh)
        return self

    async def get_teams(self) -> List[Team]:
        """Every team this user belongs to that you can see (``client.users.list_teams``).

        Wire: ``GET /users/{userId}/teams`` (extension), else ``GET /team-users?userIds=`` and
        ``GET /teams/{teamId}``
        """
        return await self._users.list_teams(self.user_id)

    async def refresh(self) -> "UserAsyncModel":
        """Reload this user from the API; returns this same object.

        Wire: ``GET /users/{userId}``
        """
        self._replace_with(await self._users.retrieve(self.user_id))
        return self


class UsersAPI(Protocol):
    """The calls of ``client.users`` ``UserAsyncModel`` makes (typed here, not imported, so
    that this module imports no resource: the resources import the models)."""

    async def retrieve(self, user_id: str) -> UserAsyncModel: ...

    async def update(
        self, user_id: str, *, full_name: Optional[str], **kwargs: Any
    ) -> UserAsyncModel: ...

    async def list_teams(self, user_id: str) -> List[Team]: ...


class _UsersClient(Protocol):
    @property
    def users(self) -> UsersAPI: ...
