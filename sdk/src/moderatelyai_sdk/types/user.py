from typing import ClassVar, Optional

from .._models import BaseModel, Timestamp

__all__ = ["User"]


class User(BaseModel):
    """A user (wire: ``User``). Rich behaviour lives in ``UserModel`` / ``UserAsyncModel``."""

    user_id: str
    full_name: str
    nickname: Optional[str] = None
    created_at: Optional[str] = None
    """ISO 8601 UTC timestamp, e.g. ``2025-08-22T20:14:27.504Z``."""
    updated_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")
