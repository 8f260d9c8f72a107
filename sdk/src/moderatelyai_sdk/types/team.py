from typing import ClassVar, Optional

from .._models import BaseModel, Timestamp

__all__ = ["Team", "TeamUser"]


class Team(BaseModel):
    """A team (wire: ``Team``)."""

    team_id: str
    name: str
    description: Optional[str] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")


class TeamUser(BaseModel):
    """A user's membership of a team (wire: ``TeamUser``)."""

    team_user_id: str
    team_id: str
    user_id: str
    role: Optional[str] = None
    """``admin``, ``member`` or ``readonly``."""
    email: Optional[str] = None
    is_default: Optional[bool] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")
