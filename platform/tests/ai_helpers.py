"""The real AI layer with every provider at the loopback server (tests/llm_server.py)."""

from __future__ import annotations

from typing import Any

from llm_server import LLMServer, llm_settings

from moderately.ai import AIServices, ai_services
from moderately.config import Settings


def settings_for(server: LLMServer, **overrides: Any) -> Settings:
    """Every provider at `server`, retries without waiting, then `overrides`."""
    values: dict[str, Any] = {**llm_settings(server), "llm_retry_base_seconds": 0.0}
    values.update(overrides)
    return Settings(**values)


def ai_for(server: LLMServer, **overrides: Any) -> AIServices:
    """The chat (and embedding) models of `settings_for(server, **overrides)`."""
    return ai_services(settings_for(server, **overrides))
