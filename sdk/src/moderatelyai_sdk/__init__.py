"""Typed sync and async Python client for the Moderately AI platform REST API.

Example::

    from moderatelyai_sdk import ModeratelyAI

    with ModeratelyAI() as client:  # MODERATELY_API_KEY, MODERATELY_TEAM_ID, MODERATELY_BASE_URL
        for agent in client.agents.list().auto_paging_iter():
            print(agent.name)
"""

from ._async._client import AsyncModeratelyAI
from ._base_client import RetryConfig
from ._exceptions import (
    APIError,
    AuthenticationError,
    ConflictError,
    ModeratelyAIError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TimeoutError,
    UnprocessableEntityError,
    ValidationError,
)
from ._sync._client import ModeratelyAI
from ._version import __version__
from .models import FileAsyncModel, FileModel, UserAsyncModel, UserModel
from .pagination import AsyncPage, Page
from .types import Agent, File, PaginationInfo, Team, User

__all__ = [
    "__version__",
    # clients
    "ModeratelyAI",
    "AsyncModeratelyAI",
    "RetryConfig",
    # results
    "Page",
    "AsyncPage",
    "UserModel",
    "UserAsyncModel",
    "FileModel",
    "FileAsyncModel",
    "User",
    "Team",
    "Agent",
    "File",
    "PaginationInfo",
    # errors
    "ModeratelyAIError",
    "APIError",
    "ValidationError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "TimeoutError",
]
