"""Parameter lists of the seed reference (names, order, kinds and defaults), both clients."""

import inspect
from typing import Any, Callable

import pytest

from moderatelyai_sdk import AsyncModeratelyAI, ModeratelyAI
from moderatelyai_sdk.models import FileAsyncModel, FileModel, UserAsyncModel, UserModel
from moderatelyai_sdk.resources import Agents, Files, Teams, Users
from moderatelyai_sdk.resources_async import AsyncAgents, AsyncFiles, AsyncTeams, AsyncUsers

PAGING = "(*, page=1, page_size=10, order_by='created_at', order_direction='desc')"
SEED = {
    (Users, AsyncUsers): {
        "list": PAGING,
        "retrieve": "(user_id)",
        "update": "(user_id, *, full_name, **kwargs)",
    },
    (Teams, AsyncTeams): {
        "list": PAGING,
        "retrieve": "(team_id)",
        "create": "(*, name, description=None, **kwargs)",
        "update": "(team_id, *, name=None, description=None, **kwargs)",
        "delete": "(team_id)",
    },
    (Agents, AsyncAgents): {
        "list": PAGING,
        "retrieve": "(agent_id)",
        "create": "(*, name, description=None, **kwargs)",
        "update": "(agent_id, *, name=None, description=None, **kwargs)",
        "delete": "(agent_id)",
    },
    # The seed's parameters, plus ``progress=None`` (a keyword-only addition) on the transfers
    # and ``file_hash=None`` on get_upload_url (api.md 7.3 B3, E6).
    (Files, AsyncFiles): {
        "list": "(*, dataset_id=None, status=None, mime_type=None, file_hashes=None, page=1, "
        "page_size=10, order_by='created_at', order_direction='desc')",
        "retrieve": "(file_id)",
        "upload": "(file=None, *, name=None, metadata=None, progress=None, **kwargs)",
        "download": "(file_id, *, path=None, progress=None)",
        "update": "(file_id, *, name=None, dataset_id=None, metadata=None, **kwargs)",
        "delete": "(file_id)",
        "get_upload_url": "(*, filename, file_size, mime_type=None, dataset_id=None, "
        "file_hash=None, **kwargs)",
    },
    (FileModel, FileAsyncModel): {
        "download": "(*, path=None, progress=None)",
        "delete": "()",
        "refresh": "()",
        "is_ready": "()",
        "is_processing": "()",
        "has_error": "()",
        "is_image": "()",
        "is_document": "()",
        "is_text": "()",
        "is_csv": "()",
        "get_extension": "()",
    },
    (UserModel, UserAsyncModel): {
        "display_name": "()",
        "has_nickname": "()",
        "formatted_created_at": "(format_str='%Y-%m-%d %H:%M:%S')",
        "is_recent": "(days=7)",
        "update_profile": "(*, full_name=None, nickname=None, **kwargs)",
        "get_teams": "()",
        "refresh": "()",
    },
    (ModeratelyAI, AsyncModeratelyAI): {
        "__init__": "(*, team_id=None, api_key=None, base_url=None, timeout=None, max_retries=3, "
        "retry_config=None, default_headers=None, default_query=None, http_client=None)",
        "close": "()",
    },
}
CASES = [
    (cls, name, text)
    for pair, methods in SEED.items()
    for cls in pair
    for name, text in methods.items()
]


def bare(function: Callable[..., Any]) -> str:
    """``(user_id, *, full_name, **kwargs)``: the signature without self and annotations."""
    params = list(inspect.signature(function).parameters.values())[1:]
    return str(inspect.Signature([p.replace(annotation=inspect.Parameter.empty) for p in params]))


@pytest.mark.parametrize(
    ("cls", "name", "expected"), CASES, ids=lambda v: getattr(v, "__name__", "")
)
def test_seed_signature(cls: type, name: str, expected: str) -> None:
    assert bare(getattr(cls, name)) == expected


@pytest.mark.parametrize(
    "cls", [Users, AsyncUsers, Teams, AsyncTeams, Agents, AsyncAgents, Files, AsyncFiles]
)
def test_every_public_method_documents_its_wire_call(cls: type) -> None:
    for name, method in inspect.getmembers(cls, inspect.isfunction):
        if not name.startswith("_"):
            assert method.__doc__ and "Wire: ``" in method.__doc__, f"{cls.__name__}.{name}"
