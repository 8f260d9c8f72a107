from typing import ClassVar, Optional

from .._models import BaseModel, Timestamp

__all__ = ["Team"]


class Team(BaseModel):
    """A team (wire: ``Team``)."""

    team_id: str
    name: str
    description: Optional[str] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")
