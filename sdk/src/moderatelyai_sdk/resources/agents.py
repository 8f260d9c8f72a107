"""``Agents``: the sync agents resource (generated from the async source)."""

from .._sync.resources.agents import Agents as Agents

__all__ = ["Agents"]
