"""What the engine's AI blocks and the agent runtime use from the AI layer.

`ChatModels` resolves a provider and tier to a model and makes chat calls (ai/chat.py implements
it over the `openai` and `anthropic` clients); `EmbeddingModels` hands out embedding models
(ai/embeddings.py, model2vec). Both are built once per process from the settings
(`moderately.ai.ai_services`) and reach blocks as `BlockContext.ai`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "PROVIDERS",
    "TIERS",
    "AIError",
    "AIServices",
    "ChatModels",
    "ChatReply",
    "Embedder",
    "EmbeddingModels",
    "Message",
    "ModelChoice",
    "ToolCall",
    "ToolSpec",
    "Usage",
]

# The provider enum of the `llm` block (and the agents' llmConfig, which uses a subset).
PROVIDERS: tuple[str, ...] = (
    "openai",
    "anthropic",
    "cohere",
    "groq",
    "cerebras",
    "google",
    "vertexai",
)
TIERS: tuple[str, ...] = ("small", "medium", "large")

Role = Literal["system", "user", "assistant"]


class AIError(Exception):
    """A failure of the AI layer that names its cause. `error_type` is the errorType a block or
    an agent step reports: `provider_not_configured`, `unknown_provider`, `unknown_model_tier`,
    `llm_call_failed` (after the retries), `llm_timeout`, `llm_output_invalid`,
    `embedding_model_unavailable`; and from ai/chat.py `invalid_llm_tiers`
    (MODERATELY_LLM_TIERS), `invalid_model_config` (a bad option value) and
    `invalid_output_schema` (a schema the engine's validator refuses)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message; adapters merge or reshape messages as their provider requires."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered to the model; `parameters` is the JSON Schema of its arguments object."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCall:
    call_id: str
    name: str
    arguments: Mapping[str, Any]  # as the model sent them (not validated)
    # Set when the model's arguments were not a JSON object (`arguments` is then {}): the agent
    # runtime reports it to the model as the observation instead of running the tool.
    arguments_error: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The `usage` port value of the llm block."""
        return {
            "provider": self.provider,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """A resolved model: the canonical provider name and the exact model name to send."""

    provider: str
    model: str
    tier: str | None = None


@dataclass(frozen=True, slots=True)
class ChatReply:
    text: str
    tool_calls: tuple[ToolCall, ...]
    usage: Usage
    stop_reason: str | None = None


class ChatModels(Protocol):
    """Chat models of the configured providers (one object per process)."""

    def default_provider(self) -> str:
        """`default_llm_provider`, else the first configured provider; `AIError`
        (`provider_not_configured`) when none is."""
        ...

    def choose(
        self,
        provider: str | None,
        tier: str | None = "small",
        model_override: str | None = None,
    ) -> ModelChoice:
        """Resolve provider (None: the default) + tier through the tier table, or the override.
        Raises `AIError`: `unknown_provider`, `unknown_model_tier`, `provider_not_configured`."""
        ...

    async def chat(
        self,
        choice: ModelChoice,
        messages: Sequence[Message],
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        tools: Sequence[ToolSpec] = (),
        require_tool: bool = False,
        options: Mapping[str, Any] | None = None,
    ) -> ChatReply:
        """One completion, with retries on transport errors, 429 and 5xx, a per-call timeout and
        the per-worker concurrency cap. `options` are extra provider parameters (an agent's
        `model_config`). Raises `AIError` (`llm_call_failed`, `llm_timeout`, ...)."""
        ...

    async def structured(
        self,
        choice: ModelChoice,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any],
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> tuple[Any, Usage]:
        """A JSON value valid against `schema` (Draft 7), asked for through the provider's JSON
        schema or tool mode; one repair retry with the validation errors, then `AIError`
        (`llm_output_invalid`). Usage is the sum over both calls."""
        ...


class Embedder(Protocol):
    """One loaded embedding model. `embed` is CPU work: call it in a worker thread."""

    name: str
    dimensions: int

    def embed(self, texts: Sequence[str], *, batch_size: int = 100) -> npt.NDArray[np.float32]:
        """One L2-normalised row per text, in order."""
        ...


class EmbeddingModels(Protocol):
    def get(self, name: str | None = None) -> Embedder:
        """The model of that name (None: the default), loaded once per process; `AIError`
        (`embedding_model_unavailable`) when it cannot be loaded."""
        ...


@dataclass(frozen=True, slots=True)
class AIServices:
    chat: ChatModels
    embeddings: EmbeddingModels
