"""Sync resource classes, one module per resource (``moderatelyai_sdk.resources.users.Users``)."""

from .agents import Agents
from .datasets import Datasets
from .files import Files
from .teams import Teams
from .users import Users

__all__ = ["Agents", "Datasets", "Files", "Teams", "Users"]
