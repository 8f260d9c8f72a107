"""The LLM roles of an agent (docs/agents.md, the loop's Models) and the usage they add up to.

Each role of `llmConfig` resolves like the `llm` block: `provider` + `model_tier` through the
tier table, `model` as the override, `model_config` passed to every call as provider options,
`enable_reasoning` passed as the option `enable_reasoning` for the chat adapter to map (or
ignore). Missing roles: `thought_llm` = the server's default provider at tier `medium`,
`planner_llm` = `thought_llm`, `fact_extraction_llm` = the thought provider at tier `small`.
The resource tools that ask an LLM use `thought_llm`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..ai.types import AIError, AIServices, ChatReply, Message, ModelChoice, ToolSpec, Usage

RoleName = Literal["thought", "planner", "fact"]
ROLE_KEYS: dict[RoleName, str] = {
    "thought": "thought_llm",
    "planner": "planner_llm",
    "fact": "fact_extraction_llm",
}


@dataclass(frozen=True, slots=True)
class Role:
    choice: ModelChoice
    options: Mapping[str, Any] | None


def _entry(llm_config: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    entry = llm_config.get(key)
    if entry is None:
        return None
    if not isinstance(entry, Mapping):
        raise AIError("invalid_llm_config", f"llmConfig.{key} must be an object")
    return entry


def _text(entry: Mapping[str, Any], key: str, role_key: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise AIError("invalid_llm_config", f"llmConfig.{role_key}.{key} must be a string")
    return value


def _role(
    ai: AIServices, entry: Mapping[str, Any], role_key: str, provider: str, tier: str
) -> Role:
    provider = _text(entry, "provider", role_key) or provider
    tier = _text(entry, "model_tier", role_key) or tier
    choice = ai.chat.choose(provider, tier, _text(entry, "model", role_key))
    options: dict[str, Any] = {}
    model_config = entry.get("model_config")
    if model_config is not None:
        if not isinstance(model_config, Mapping):
            raise AIError(
                "invalid_llm_config", f"llmConfig.{role_key}.model_config must be an object"
            )
        options.update(model_config)
    if entry.get("enable_reasoning") is True:
        options["enable_reasoning"] = True
    return Role(choice, options or None)


def resolve_roles(ai: AIServices, llm_config: Mapping[str, Any]) -> dict[RoleName, Role]:
    """The three roles; `AIError` (`provider_not_configured`, `unknown_model_tier`, ...)."""
    thought_entry = _entry(llm_config, ROLE_KEYS["thought"])
    if thought_entry is None:
        thought = _role(ai, {}, ROLE_KEYS["thought"], ai.chat.default_provider(), "medium")
    else:
        default = thought_entry.get("provider") or ai.chat.default_provider()
        thought = _role(ai, thought_entry, ROLE_KEYS["thought"], default, "medium")
    planner_entry = _entry(llm_config, ROLE_KEYS["planner"])
    planner = (
        thought
        if planner_entry is None
        else _role(ai, planner_entry, ROLE_KEYS["planner"], thought.choice.provider, "medium")
    )
    fact_entry = _entry(llm_config, ROLE_KEYS["fact"])
    fact = _role(ai, fact_entry or {}, ROLE_KEYS["fact"], thought.choice.provider, "small")
    return {"thought": thought, "planner": planner, "fact": fact}


class UsageMeter:
    """Token totals of a run, over every call of every role and tool (event loop only)."""

    def __init__(self, start: Mapping[str, Any] | None = None) -> None:
        start = start or {}
        self.input_tokens = int(start.get("input_tokens") or 0)
        self.output_tokens = int(start.get("output_tokens") or 0)
        self.calls = int(start.get("llm_calls") or 0)
        self.models: dict[str, dict[str, int]] = {
            str(name): {key: int(value) for key, value in counts.items()}
            for name, counts in dict(start.get("models") or {}).items()
            if isinstance(counts, Mapping)
        }

    def add(self, usage: Usage) -> None:
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.calls += 1
        counts = self.models.setdefault(
            f"{usage.provider}/{usage.model}", {"input_tokens": 0, "output_tokens": 0, "calls": 0}
        )
        counts["input_tokens"] += usage.input_tokens
        counts["output_tokens"] += usage.output_tokens
        counts["calls"] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "llm_calls": self.calls,
            "models": {name: dict(counts) for name, counts in self.models.items()},
        }


class AgentLLM:
    """Chat and structured calls of one run, by role, counted in its `UsageMeter`."""

    def __init__(self, ai: AIServices, roles: Mapping[RoleName, Role], meter: UsageMeter) -> None:
        self.ai = ai
        self.roles = roles
        self.meter = meter

    async def chat(
        self,
        role: RoleName,
        messages: Sequence[Message],
        *,
        system: str | None = None,
        tools: Sequence[ToolSpec] = (),
        require_tool: bool = False,
        max_tokens: int | None = None,
    ) -> ChatReply:
        chosen = self.roles[role]
        reply = await self.ai.chat.chat(
            chosen.choice,
            messages,
            system=system,
            tools=tools,
            require_tool=require_tool,
            max_tokens=max_tokens,
            options=chosen.options,
        )
        self.meter.add(reply.usage)
        return reply

    async def structured(
        self,
        role: RoleName,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any],
        system: str | None = None,
        max_tokens: int | None = None,
    ) -> Any:
        chosen = self.roles[role]
        value, usage = await self.ai.chat.structured(
            chosen.choice,
            messages,
            schema=schema,
            system=system,
            max_tokens=max_tokens,
            options=chosen.options,
        )
        self.meter.add(usage)
        return value
