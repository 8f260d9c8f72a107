"""``AsyncAgents``: the async agents resource."""

from .._async.resources.agents import AsyncAgents as AsyncAgents

__all__ = ["AsyncAgents"]
