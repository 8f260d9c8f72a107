from typing import Optional

from .._models import BaseModel

__all__ = ["Team"]


class Team(BaseModel):
    """A team (wire: ``Team``)."""

    team_id: str
    name: str
    description: Optional[str] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
