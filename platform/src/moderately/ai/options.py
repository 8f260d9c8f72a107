"""Generation parameters a call may carry: the llm block's temperature and max_tokens and an
agent's `model_config`, reduced to a whitelist of known names with bounded values.

Anything else in `model_config` is dropped (it could otherwise reach the provider as an
arbitrary request field); a known name with a bad value is an `AIError` naming it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .types import AIError

__all__ = ["DEFAULT_MAX_TOKENS", "MAX_TOKENS_LIMIT", "GenerationOptions", "generation_options"]

DEFAULT_MAX_TOKENS = 8192  # the llm block's default; the Messages API needs a value
MAX_TOKENS_LIMIT = 100_000
_MAX_STOP_SEQUENCES = 4
_MAX_STOP_LENGTH = 200
_NUMBER_BOUNDS: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}
_INT_BOUNDS: dict[str, tuple[int, int]] = {
    "max_tokens": (1, MAX_TOKENS_LIMIT),
    "top_k": (1, 1000),
    "seed": (0, 2**31 - 1),
}


@dataclass(frozen=True, slots=True)
class GenerationOptions:
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    top_k: int | None = None  # anthropic only
    enable_reasoning: bool = False


def _number(name: str, value: Any) -> float:
    low, high = _NUMBER_BOUNDS[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AIError("invalid_model_config", f"model option {name} must be a number")
    if not low <= value <= high:
        raise AIError("invalid_model_config", f"model option {name} must be in [{low:g}, {high:g}]")
    return float(value)


def _integer(name: str, value: Any) -> int:
    low, high = _INT_BOUNDS[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise AIError("invalid_model_config", f"model option {name} must be an integer")
    if not low <= value <= high:
        raise AIError("invalid_model_config", f"model option {name} must be in [{low}, {high}]")
    return value


def _stop(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, list)
        or len(items) > _MAX_STOP_SEQUENCES
        or not all(isinstance(item, str) and 0 < len(item) <= _MAX_STOP_LENGTH for item in items)
    ):
        raise AIError(
            "invalid_model_config",
            f"model option stop must be a string or a list of at most {_MAX_STOP_SEQUENCES} "
            f"non-empty strings of at most {_MAX_STOP_LENGTH} characters",
        )
    return tuple(items)


def generation_options(
    options: Mapping[str, Any] | None,
    *,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> GenerationOptions:
    """The whitelisted options; explicit `temperature` / `max_tokens` win over `options`."""
    given = dict(options or {})
    if temperature is not None:
        given["temperature"] = temperature
    if max_tokens is not None:
        given["max_tokens"] = max_tokens
    values: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        if name in _NUMBER_BOUNDS:
            values[name] = _number(name, value)
        elif name in _INT_BOUNDS:
            values[name] = _integer(name, value)
        elif name == "stop":
            values[name] = _stop(value)
        elif name == "enable_reasoning":
            if not isinstance(value, bool):
                raise AIError(
                    "invalid_model_config", "model option enable_reasoning must be a boolean"
                )
            values[name] = value
    return GenerationOptions(**values)
