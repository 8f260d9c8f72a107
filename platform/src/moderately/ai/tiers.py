"""The tier table: which model a provider's `small`, `medium` and `large` tiers name.

The built-in table is a sensible default per provider; operators merge
their own over it with `MODERATELY_LLM_TIERS` (JSON `{"<provider>": {"<tier>": "<model>"}}`).
A local server (Ollama, vLLM) behind `MODERATELY_OPENAI_BASE_URL` needs its own model names
there, or `model_override` in each block.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from .types import PROVIDERS, TIERS, AIError

__all__ = ["BUILTIN_TIERS", "TierTable", "tier_table"]

TierTable = Mapping[str, Mapping[str, str]]

# Haiku / Sonnet / Opus class for anthropic, mini / standard / flagship GPT class for openai.
BUILTIN_TIERS: TierTable = {
    "openai": {"small": "gpt-4.1-mini", "medium": "gpt-4.1", "large": "gpt-5"},
    "anthropic": {
        "small": "claude-haiku-4-5",
        "medium": "claude-sonnet-4-5",
        "large": "claude-opus-4-5",
    },
    "groq": {
        "small": "llama-3.1-8b-instant",
        "medium": "llama-3.3-70b-versatile",
        "large": "openai/gpt-oss-120b",
    },
    "cerebras": {"small": "llama3.1-8b", "medium": "llama-3.3-70b", "large": "gpt-oss-120b"},
    "google": {
        "small": "gemini-2.5-flash-lite",
        "medium": "gemini-2.5-flash",
        "large": "gemini-2.5-pro",
    },
    # Vertex AI's OpenAI-compatible endpoint names models with their publisher.
    "vertexai": {
        "small": "google/gemini-2.5-flash-lite",
        "medium": "google/gemini-2.5-flash",
        "large": "google/gemini-2.5-pro",
    },
    "cohere": {
        "small": "command-r7b-12-2024",
        "medium": "command-r-08-2024",
        "large": "command-a-03-2025",
    },
}

_SETTING = "MODERATELY_LLM_TIERS"
_MAX_MODEL_NAME = 200


def tier_table(override: str | None) -> dict[str, dict[str, str]]:
    """The built-in table with `override` (the setting's JSON) merged over it, per tier.
    Raises `AIError` (`invalid_llm_tiers`) naming what is wrong with the JSON."""
    table = {provider: dict(tiers) for provider, tiers in BUILTIN_TIERS.items()}
    if not override:
        return table
    try:
        parsed = json.loads(override)
    except ValueError as exc:
        raise AIError("invalid_llm_tiers", f"{_SETTING} is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise AIError(
            "invalid_llm_tiers",
            f'{_SETTING} must be a JSON object {{"<provider>": {{"<tier>": "<model>"}}}}',
        )
    for provider, tiers in parsed.items():
        if provider not in PROVIDERS:
            raise AIError(
                "invalid_llm_tiers",
                f"{_SETTING} names an unknown provider {provider!r} "
                f"(known: {', '.join(PROVIDERS)})",
            )
        if not isinstance(tiers, dict):
            raise AIError(
                "invalid_llm_tiers", f"{_SETTING}.{provider} must be an object of tier: model"
            )
        for tier, model in tiers.items():
            if tier not in TIERS:
                raise AIError(
                    "invalid_llm_tiers",
                    f"{_SETTING}.{provider} names an unknown tier {tier!r} "
                    f"(known: {', '.join(TIERS)})",
                )
            if not isinstance(model, str) or not model.strip() or len(model) > _MAX_MODEL_NAME:
                raise AIError(
                    "invalid_llm_tiers",
                    f"{_SETTING}.{provider}.{tier} must be a model name "
                    f"(a non-empty string of at most {_MAX_MODEL_NAME} characters)",
                )
            table[provider][tier] = model.strip()
    return table
