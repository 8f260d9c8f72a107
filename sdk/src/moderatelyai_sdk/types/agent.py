from typing import Optional, Union

from .._models import BaseModel

__all__ = ["Agent"]


class Agent(BaseModel):
    """An AI agent (wire: ``Agent``), including the run metrics the server reports."""

    agent_id: str
    team_id: Optional[str] = None
    name: str
    description: Optional[str] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    last_run_at: Optional[str] = None
    total_runs: Optional[Union[int, float]] = None
    successful_runs: Optional[Union[int, float]] = None
    success_rate: Optional[Union[int, float]] = None
    """Percentage (0-100) of successful runs."""
