"""Async resource classes (``moderatelyai_sdk.resources_async.users.AsyncUsers``)."""

from .agents import AsyncAgents
from .files import AsyncFiles
from .teams import AsyncTeams
from .users import AsyncUsers

__all__ = ["AsyncAgents", "AsyncFiles", "AsyncTeams", "AsyncUsers"]
