"""One provider call as the adapters see it, how its failures are told apart, and the retry loop
around it.

The SDK clients' own retries are off (`max_retries=0`): this loop retries transport errors,
timeouts, 429 and 5xx up to `llm_max_attempts` times, waiting `llm_retry_base_seconds * 4**n`
(1 s, 4 s by default) or a provider's short Retry-After, and holds a concurrency slot
(ai/limits.py) only while a request is in flight, never during a wait.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from moderately.config import Settings

from .limits import CallSlots
from .options import GenerationOptions
from .outbound import OutboundRefused
from .providers import Endpoint
from .types import AIError, Message, ToolCall, ToolSpec

__all__ = [
    "Adapter",
    "CallFailure",
    "Completion",
    "RawReply",
    "body_excerpt",
    "call_with_retries",
    "failure_from_sdk",
    "raw_body",
    "safe_excerpt",
    "token_count",
]

# A provider's Retry-After is honoured up to this many seconds (a longer one: our backoff).
MAX_RETRY_AFTER_SECONDS = 30.0
_EXCERPT_CHARS = 300

FailureKind = Literal["timeout", "status", "transport", "protocol", "refused"]


@dataclass(frozen=True, slots=True)
class Completion:
    """What one provider call asks for (the adapter shapes it for its wire protocol)."""

    model: str
    messages: tuple[Message, ...]
    system: str | None
    options: GenerationOptions
    tools: tuple[ToolSpec, ...] = ()
    require_tool: bool = False
    # An object schema the reply must follow (structured output); None for free text.
    output_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RawReply:
    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str | None = None
    # The structured value when the protocol hands it over parsed (Anthropic's forced tool).
    structured: Mapping[str, Any] | None = None


class Adapter(Protocol):
    endpoint: Endpoint

    async def complete(self, call: Completion) -> RawReply:
        """One request; raises `CallFailure`."""
        ...


@dataclass
class CallFailure(Exception):
    """Why one attempt failed (`retryable` decides whether the loop tries again)."""

    kind: FailureKind
    detail: str
    status: int | None = None
    retry_after: float | None = field(default=None)

    @property
    def retryable(self) -> bool:
        if self.kind in ("timeout", "transport"):
            return True
        return (
            self.kind == "status"
            and self.status is not None
            and (self.status == 429 or self.status >= 500)
        )


def safe_excerpt(text: str, *, secret: str | None = None) -> str:
    """A short, single-line excerpt of a provider's message, without the API key."""
    if secret and len(secret) >= 8:
        text = text.replace(secret, "[redacted]")
    text = re.sub(r"\s+", " ", "".join(ch if ch.isprintable() else " " for ch in text)).strip()
    return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 3] + "..."


def body_excerpt(body: bytes) -> str:
    """A quoted excerpt of a reply body that is not what the protocol promises."""
    return repr(safe_excerpt(body[:600].decode("utf-8", "replace")))


def token_count(value: Any) -> int:
    """A usage figure as a count (0 when a server sends none or nonsense)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _error_message(body: Any, text: str) -> str:
    """The provider's own message: `{"error": {"message"}}` (both protocols) or the body."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return text


def _retry_after(headers: Mapping[str, str]) -> float | None:
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def failure_from_sdk(exc: Exception, sdk: Any, endpoint: Endpoint) -> CallFailure | None:
    """Tell an `openai` or `anthropic` client exception apart (both SDKs share the names);
    None for anything else (a bug: it propagates, it is not retried)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OutboundRefused):
            return CallFailure("refused", str(cause))
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, sdk.APITimeoutError):
        return CallFailure("timeout", "the request timed out")
    if isinstance(exc, sdk.APIConnectionError):
        reason = exc.__cause__ or exc
        return CallFailure(
            "transport",
            safe_excerpt(f"{type(reason).__name__}: {reason}", secret=endpoint.api_key),
        )
    if isinstance(exc, sdk.APIStatusError):
        response = exc.response
        message = _error_message(exc.body, response.text if response is not None else str(exc))
        return CallFailure(
            "status",
            safe_excerpt(message, secret=endpoint.api_key),
            status=exc.status_code,
            retry_after=_retry_after(response.headers) if response is not None else None,
        )
    if isinstance(exc, sdk.APIResponseValidationError | json.JSONDecodeError):
        return CallFailure("protocol", safe_excerpt(str(exc), secret=endpoint.api_key))
    return None


async def raw_body(
    create: Callable[..., Awaitable[Any]], request: Mapping[str, Any], sdk: Any, endpoint: Endpoint
) -> bytes:
    """The response body of one SDK call (`create` of its `with_raw_response`), read raw; the
    SDK's failures as a `CallFailure` (others propagate)."""
    try:
        raw = await create(**request)
        body: bytes = raw.http_response.content
    except Exception as exc:
        failure = failure_from_sdk(exc, sdk, endpoint)
        if failure is None:
            raise
        raise failure from exc
    return body


def _final_error(
    failure: CallFailure, adapter: Adapter, call: Completion, attempts: int, settings: Settings
) -> AIError:
    endpoint = adapter.endpoint
    who = f"{endpoint.provider} model {call.model!r}"
    tries = f" ({attempts} attempts)" if attempts > 1 else ""
    if failure.kind == "timeout":
        return AIError(
            "llm_timeout",
            f"{who} did not answer within {settings.llm_timeout_seconds:g} s "
            f"(MODERATELY_LLM_TIMEOUT_SECONDS){tries}",
        )
    if failure.kind == "status":
        return AIError(
            "llm_call_failed",
            f"{who} failed: HTTP {failure.status} from {endpoint.base_url}: "
            f"{failure.detail}{tries}",
        )
    if failure.kind == "protocol":
        wire = "Messages API" if endpoint.protocol == "anthropic" else "chat-completions"
        return AIError(
            "llm_call_failed",
            f"{who} failed: {endpoint.base_url} answered with a body that is not the "
            f"{wire} JSON: {failure.detail}",
        )
    if failure.kind == "refused":
        return AIError("llm_call_failed", f"{who} failed: {failure.detail}")
    return AIError(
        "llm_call_failed",
        f"{who} failed: could not reach {endpoint.base_url}: {failure.detail}{tries}",
    )


async def call_with_retries(
    adapter: Adapter, call: Completion, *, settings: Settings, slots: CallSlots
) -> RawReply:
    attempts = settings.llm_max_attempts
    for attempt in range(attempts):
        try:
            async with slots.hold():
                # Over the whole exchange: httpx's timeouts are per read, a server that trickles
                # bytes would escape them.
                async with asyncio.timeout(settings.llm_timeout_seconds):
                    return await adapter.complete(call)
        except TimeoutError:
            failure = CallFailure("timeout", "the request timed out")
        except CallFailure as caught:
            failure = caught
        if not failure.retryable or attempt == attempts - 1:
            raise _final_error(failure, adapter, call, attempt + 1, settings)
        delay = settings.llm_retry_base_seconds * 4**attempt
        if failure.retry_after is not None and failure.retry_after <= MAX_RETRY_AFTER_SECONDS:
            delay = max(delay, failure.retry_after)
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")
