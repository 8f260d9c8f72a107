from typing import Optional

from .._models import BaseModel

__all__ = ["User"]


class User(BaseModel):
    """A user (wire: ``User``). Rich behaviour lives in ``UserModel`` / ``UserAsyncModel``."""

    user_id: str
    full_name: str
    nickname: Optional[str] = None
    created_at: Optional[str] = None
    """ISO 8601 UTC timestamp, e.g. ``2025-08-22T20:14:27.504Z``."""
    updated_at: Optional[str] = None
