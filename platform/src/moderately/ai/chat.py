"""`ChatModels` over the configured providers (ai/types.py's contract).

Resolution: provider (None: the default) + tier through the tier table (ai/tiers.py), or an
exact `model_override`. Calls go through one adapter per provider, made on first use: the
native Anthropic Messages API (ai/anthropic_native.py) or the OpenAI-compatible
chat-completions API for every other provider (ai/openai_compat.py), each with retries, a
per-call timeout and the worker's concurrency cap (ai/calls.py, ai/limits.py).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from moderately.config import Settings

from .calls import Adapter, Completion, RawReply, call_with_retries
from .limits import CallSlots
from .options import generation_options
from .providers import configured, endpoint_for
from .structured import OutputSchema, output_instructions, repair_messages
from .tiers import tier_table
from .types import (
    PROVIDERS,
    TIERS,
    AIError,
    ChatReply,
    Message,
    ModelChoice,
    ToolSpec,
    Usage,
)

__all__ = ["ProviderChatModels", "build_chat_models"]

_MAX_MODEL_NAME = 200


def build_chat_models(settings: Settings) -> ProviderChatModels:
    """The chat models these settings configure. Raises `AIError` (`invalid_llm_tiers`,
    `unknown_provider`) when MODERATELY_LLM_TIERS or MODERATELY_DEFAULT_LLM_PROVIDER is wrong."""
    return ProviderChatModels(settings)


class ProviderChatModels:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tiers = tier_table(settings.llm_tiers)
        default = settings.default_llm_provider
        if default is not None and default not in PROVIDERS:
            raise AIError(
                "unknown_provider",
                f"MODERATELY_DEFAULT_LLM_PROVIDER names an unknown provider {default!r} "
                f"(known: {', '.join(PROVIDERS)})",
            )
        self.slots = CallSlots(settings.llm_max_concurrency)
        # An SDK client's connection pool belongs to one event loop (a process may run several:
        # the engine's watcher has its own), so adapters are kept per loop.
        self._adapters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Adapter]] = (
            weakref.WeakKeyDictionary()
        )

    # ---- resolution ----

    def default_provider(self) -> str:
        if self.settings.default_llm_provider is not None:
            return self.settings.default_llm_provider
        for provider in PROVIDERS:
            if configured(self.settings, provider):
                return provider
        raise AIError(
            "provider_not_configured",
            "no LLM provider is configured on this server: set MODERATELY_<PROVIDER>_API_KEY or "
            "MODERATELY_<PROVIDER>_BASE_URL for one of " + ", ".join(PROVIDERS),
        )

    def choose(
        self,
        provider: str | None,
        tier: str | None = "small",
        model_override: str | None = None,
    ) -> ModelChoice:
        name = provider if provider is not None else self.default_provider()
        endpoint_for(self.settings, name)  # unknown_provider, provider_not_configured
        if model_override:
            if len(model_override) > _MAX_MODEL_NAME or not model_override.isprintable():
                raise AIError(
                    "invalid_model_config",
                    f"model_override must be a model name of at most {_MAX_MODEL_NAME} "
                    "printable characters",
                )
            return ModelChoice(provider=name, model=model_override, tier=None)
        tier = tier or "small"
        if tier not in TIERS:
            raise AIError(
                "unknown_model_tier",
                f"unknown model tier {tier!r} (known: {', '.join(TIERS)}; or give model_override)",
            )
        model = self.tiers.get(name, {}).get(tier)
        if model is None:  # pragma: no cover - every provider has a built-in row
            raise AIError("unknown_model_tier", f"no {tier!r} model for {name} in the tier table")
        return ModelChoice(provider=name, model=model, tier=tier)

    def adapter(self, provider: str) -> Adapter:
        """The provider's adapter for the running event loop (made on first use)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        cached = self._adapters.setdefault(loop, {}) if loop is not None else {}
        adapter = cached.get(provider)
        if adapter is None:
            endpoint = endpoint_for(self.settings, provider)
            timeout = self.settings.llm_timeout_seconds
            # Imported here: the provider clients take seconds to import, and a run whose only
            # AI blocks embed text never needs them.
            if endpoint.protocol == "anthropic":
                from .anthropic_native import AnthropicNative

                adapter = AnthropicNative(endpoint, timeout=timeout)
            else:
                from .openai_compat import OpenAICompatible

                adapter = OpenAICompatible(endpoint, timeout=timeout)
            cached[provider] = adapter
        return adapter

    # ---- calls ----

    async def _call(self, choice: ModelChoice, call: Completion) -> RawReply:
        return await call_with_retries(
            self.adapter(choice.provider), call, settings=self.settings, slots=self.slots
        )

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
        call = Completion(
            model=choice.model,
            messages=tuple(messages),
            system=system,
            options=generation_options(options, temperature=temperature, max_tokens=max_tokens),
            tools=tuple(tools),
            require_tool=require_tool and bool(tools),
        )
        reply = await self._call(choice, call)
        return ChatReply(
            text=reply.text,
            tool_calls=reply.tool_calls,
            usage=Usage(choice.provider, choice.model, reply.input_tokens, reply.output_tokens),
            stop_reason=reply.stop_reason,
        )

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
        output = OutputSchema(schema)
        instructions = output_instructions(output)
        call = Completion(
            model=choice.model,
            messages=tuple(messages),
            system=f"{system}\n\n{instructions}" if system else instructions,
            options=generation_options(options, temperature=temperature, max_tokens=max_tokens),
            output_schema=output.for_provider,
        )
        replies: list[RawReply] = []
        problem: str | None = None
        for _ in range(2):  # the answer, then one repair turn
            reply = await self._call(choice, call)
            replies.append(reply)
            value, problem = output.value_of(reply)
            if problem is None:
                return value, _summed(choice, replies)
            call = Completion(
                model=call.model,
                messages=call.messages + repair_messages(reply, problem),
                system=call.system,
                options=call.options,
                output_schema=call.output_schema,
            )
        raise AIError(
            "llm_output_invalid",
            f"{choice.provider} model {choice.model!r} gave output that does not conform to "
            f"output_schema, also after a repair turn: {problem}",
        )


def _summed(choice: ModelChoice, replies: Sequence[RawReply]) -> Usage:
    return Usage(
        choice.provider,
        choice.model,
        sum(reply.input_tokens for reply in replies),
        sum(reply.output_tokens for reply in replies),
    )
