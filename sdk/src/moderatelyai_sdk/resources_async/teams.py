"""``AsyncTeams``: the async teams resource."""

from .._async.resources.teams import AsyncTeams as AsyncTeams

__all__ = ["AsyncTeams"]
