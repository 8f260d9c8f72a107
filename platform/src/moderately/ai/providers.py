"""Where each provider is reached and whether the settings configure it.

A provider is configured when `MODERATELY_<PROVIDER>_API_KEY` or `_BASE_URL` is set: a base URL
alone is a local server (Ollama, vLLM, llama.cpp) that needs no key; a key alone uses the
provider's documented public endpoint. Vertex AI's endpoint names a project and a region, so
it has no default and counts as configured only with a base URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from moderately.config import Settings

from .types import PROVIDERS, AIError

__all__ = [
    "DEFAULT_BASE_URLS",
    "Endpoint",
    "WireProtocol",
    "endpoint_for",
    "configured",
    "env_names",
]

WireProtocol = Literal["openai", "anthropic"]

# Documented public endpoints; OpenAI-compatible ones end in the path the client appends
# `/chat/completions` to.
DEFAULT_BASE_URLS: dict[str, str | None] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "groq": "https://api.groq.com/openai/v1",
    "cerebras": "https://api.cerebras.ai/v1",
    "google": "https://generativelanguage.googleapis.com/v1beta/openai",
    "cohere": "https://api.cohere.ai/compatibility/v1",
    "vertexai": None,
}
# A local server needs no key, but the clients insist on one.
PLACEHOLDER_KEY = "not-needed"


@dataclass(frozen=True, slots=True)
class Endpoint:
    provider: str
    protocol: WireProtocol
    base_url: str
    api_key: str


def env_names(provider: str) -> str:
    upper = provider.upper()
    return f"MODERATELY_{upper}_API_KEY or MODERATELY_{upper}_BASE_URL"


def _raw(settings: Settings, provider: str) -> tuple[str | None, str | None]:
    key = getattr(settings, f"{provider}_api_key", None)
    url = getattr(settings, f"{provider}_base_url", None)
    return (key or None), (url or None)


def configured(settings: Settings, provider: str) -> bool:
    key, url = _raw(settings, provider)
    if provider == "vertexai":
        return url is not None
    return key is not None or url is not None


def endpoint_for(settings: Settings, provider: str) -> Endpoint:
    """The endpoint of a configured provider; `AIError` otherwise."""
    if provider not in PROVIDERS:
        raise AIError(
            "unknown_provider",
            f"unknown LLM provider {provider!r} (known: {', '.join(PROVIDERS)})",
        )
    if not configured(settings, provider):
        hint = (
            "MODERATELY_VERTEXAI_BASE_URL (its OpenAI-compatible endpoint of your project and "
            "region) and MODERATELY_VERTEXAI_API_KEY (an access token)"
            if provider == "vertexai"
            else env_names(provider)
        )
        raise AIError(
            "provider_not_configured",
            f"the LLM provider {provider!r} is not configured on this server: set {hint}",
        )
    key, url = _raw(settings, provider)
    base = url or DEFAULT_BASE_URLS[provider]
    assert base is not None  # vertexai without a base URL is not configured
    return Endpoint(
        provider=provider,
        protocol="anthropic" if provider == "anthropic" else "openai",
        base_url=base.rstrip("/"),
        api_key=key or PLACEHOLDER_KEY,
    )
