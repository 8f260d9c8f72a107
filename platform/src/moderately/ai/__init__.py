"""The AI layer: chat models of the configured LLM providers and local embedding models.

Independent of the database and the API: the engine's blocks (engine/blocks/llm.py, ...) and the
agent runtime (moderately/agents) use it through `AIServices` (ai/types.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .types import AIError, AIServices

if TYPE_CHECKING:
    from moderately.config import Settings

__all__ = ["AIError", "AIServices", "ai_services"]


def ai_services(settings: Settings) -> AIServices:
    """The chat and embedding models these settings configure (build once per process)."""
    from .chat import build_chat_models
    from .embeddings import build_embedding_models

    return AIServices(chat=build_chat_models(settings), embeddings=build_embedding_models(settings))
