"""The LLM providers (moderately/ai) through the loopback server that speaks their wire
protocols (tests/llm_server.py): the OpenAI-compatible and the native Anthropic adapter, tiers,
structured output, tool calls, retries, timeouts, the outbound guard and the concurrency cap."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
from typing import Any

import pytest
from ai_helpers import settings_for
from llm_server import (
    LLMServer,
    Reply,
    error_reply,
    garbage_reply,
    json_reply,
    slow_reply,
    text_reply,
    tool_reply,
)
from loopback import Loopback

from moderately.ai.chat import ProviderChatModels, build_chat_models
from moderately.ai.limits import SharedSlots, install_shared_slots
from moderately.ai.outbound import OutboundRefused, guarded_client
from moderately.ai.providers import DEFAULT_BASE_URLS
from moderately.ai.tiers import BUILTIN_TIERS
from moderately.ai.types import PROVIDERS, TIERS, AIError, Message, ToolSpec
from moderately.config import PROVIDER_SETTINGS, Settings

pytestmark = pytest.mark.anyio

BOTH = ["openai", "anthropic"]
NO_PROVIDERS: dict[str, Any] = {
    f"{provider}_{kind}": None for provider in PROVIDER_SETTINGS for kind in ("api_key", "base_url")
}
SEARCH = ToolSpec(
    "search",
    "Search the documents",
    {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
)
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
}


def models(server: LLMServer, **overrides: Any) -> ProviderChatModels:
    return build_chat_models(settings_for(server, **overrides))


async def failure(awaitable: Any) -> AIError:
    with pytest.raises(AIError) as caught:
        await awaitable
    return caught.value


# ---- plain chat and message shapes ----


@pytest.mark.parametrize("provider", BOTH)
async def test_plain_chat_returns_text_and_usage(llm_server: LLMServer, provider: str) -> None:
    chat = models(llm_server)
    llm_server.script(text_reply("The answer is 42.", usage=(21, 5)))
    choice = chat.choose(provider, "small")
    reply = await chat.chat(choice, [Message("user", "What is the answer?")])
    assert reply.text == "The answer is 42."
    assert reply.tool_calls == ()
    assert reply.usage.as_dict() == {
        "provider": provider,
        "model": BUILTIN_TIERS[provider]["small"],
        "input_tokens": 21,
        "output_tokens": 5,
    }
    [request] = llm_server.requests
    assert request.protocol == provider
    assert request.body["model"] == BUILTIN_TIERS[provider]["small"]


async def test_openai_sends_system_first_and_keeps_the_turns(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    turns = [Message("user", "a"), Message("user", "b"), Message("assistant", "c")]
    await chat.chat(chat.choose("openai"), turns, system="Be brief.", temperature=0.2)
    body = llm_server.requests[0].body
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "a"},
        {"role": "user", "content": "b"},
        {"role": "assistant", "content": "c"},
    ]
    assert body["temperature"] == 0.2


async def test_anthropic_separates_system_and_merges_turns(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    turns = [
        Message("assistant", "Hello, how can I help?"),
        Message("system", "Answer in French."),
        Message("user", "first"),
        Message("user", "second"),
        Message("assistant", ""),
        Message("assistant", "ok"),
        Message("user", "third"),
    ]
    await chat.chat(chat.choose("anthropic"), turns, system="Be brief.")
    body = llm_server.requests[0].body
    assert body["system"] == "Be brief.\n\nAnswer in French."
    roles = [turn["role"] for turn in body["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    assert body["messages"][2]["content"] == "first\n\nsecond"
    assert "ok" in body["messages"][3]["content"]
    assert all(turn["content"] for turn in body["messages"])
    assert body["max_tokens"] > 0  # the Messages API requires it


async def test_default_responder_answers_from_the_prompt(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    reply = await chat.chat(chat.choose("groq"), [Message("user", "ping")])
    assert "ping" in reply.text


# ---- resolution: tiers, overrides, configuration ----


def test_builtin_tiers_cover_every_provider_and_tier(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    for provider in PROVIDERS:
        for tier in TIERS:
            choice = chat.choose(provider, tier)
            assert (choice.provider, choice.model, choice.tier) == (
                provider,
                BUILTIN_TIERS[provider][tier],
                tier,
            )


async def test_llm_tiers_setting_is_merged_over_the_builtin_table(llm_server: LLMServer) -> None:
    tiers = {"openai": {"small": "llama3.2:3b"}, "anthropic": {"large": "claude-custom"}}
    chat = models(llm_server, llm_tiers=json.dumps(tiers))
    assert chat.choose("openai", "small").model == "llama3.2:3b"
    assert chat.choose("openai", "medium").model == BUILTIN_TIERS["openai"]["medium"]
    assert chat.choose("anthropic", "large").model == "claude-custom"
    await chat.chat(chat.choose("openai", "small"), [Message("user", "hi")])
    assert llm_server.requests[0].body["model"] == "llama3.2:3b"


async def test_model_override_wins_over_the_tier(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    choice = chat.choose("anthropic", "large", model_override="claude-exact-name")
    assert (choice.model, choice.tier) == ("claude-exact-name", None)
    await chat.chat(choice, [Message("user", "hi")])
    assert llm_server.requests[0].body["model"] == "claude-exact-name"


@pytest.mark.parametrize(
    "value",
    [
        "{not json",
        "[]",
        '{"nope": {"small": "m"}}',
        '{"openai": {"huge": "m"}}',
        '{"openai": {"small": ""}}',
        '{"openai": "gpt"}',
    ],
)
def test_bad_llm_tiers_is_a_clear_error(llm_server: LLMServer, value: str) -> None:
    with pytest.raises(AIError) as caught:
        models(llm_server, llm_tiers=value)
    assert caught.value.error_type == "invalid_llm_tiers"
    assert "MODERATELY_LLM_TIERS" in caught.value.message


def test_unknown_provider_and_tier(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    with pytest.raises(AIError) as caught:
        chat.choose("mistral", "small")
    assert caught.value.error_type == "unknown_provider"
    assert "mistral" in caught.value.message
    with pytest.raises(AIError) as caught:
        chat.choose("openai", "gigantic")
    assert caught.value.error_type == "unknown_model_tier"
    assert "gigantic" in caught.value.message


def test_unconfigured_provider_names_the_settings(llm_server: LLMServer) -> None:
    chat = build_chat_models(
        Settings(**{**NO_PROVIDERS, "openai_api_key": "k", "vertexai_api_key": "token"})
    )
    with pytest.raises(AIError) as caught:
        chat.choose("groq", "small")
    assert caught.value.error_type == "provider_not_configured"
    assert "MODERATELY_GROQ_API_KEY" in caught.value.message
    assert "MODERATELY_GROQ_BASE_URL" in caught.value.message
    # Vertex AI has no public default endpoint: a key alone does not configure it.
    with pytest.raises(AIError) as caught:
        chat.choose("vertexai", "small")
    assert caught.value.error_type == "provider_not_configured"
    assert "MODERATELY_VERTEXAI_BASE_URL" in caught.value.message
    # A key alone reaches the provider's documented endpoint.
    assert chat.adapter("openai").endpoint.base_url == DEFAULT_BASE_URLS["openai"]


def test_default_provider(llm_server: LLMServer) -> None:
    nothing = build_chat_models(Settings(**NO_PROVIDERS))
    with pytest.raises(AIError) as caught:
        nothing.default_provider()
    assert caught.value.error_type == "provider_not_configured"
    only_local = build_chat_models(
        Settings(**{**NO_PROVIDERS, "cerebras_base_url": llm_server.openai_base_url})
    )
    assert only_local.default_provider() == "cerebras"
    assert only_local.choose(None, "medium").provider == "cerebras"
    chosen = models(llm_server, default_llm_provider="anthropic")
    assert chosen.choose(None).provider == "anthropic"
    with pytest.raises(AIError) as caught:
        models(llm_server, default_llm_provider="mistral")
    assert caught.value.error_type == "unknown_provider"


async def test_local_server_needs_no_key(llm_server: LLMServer) -> None:
    settings = Settings(**{**NO_PROVIDERS, "openai_base_url": llm_server.openai_base_url})
    chat = build_chat_models(settings)
    reply = await chat.chat(
        chat.choose("openai", model_override="llama3.2"), [Message("user", "x")]
    )
    assert reply.text
    assert llm_server.requests[0].headers["authorization"].startswith("Bearer ")


# ---- options ----


async def test_options_pass_only_known_parameters(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    options = {"temperature": 0.7, "top_p": 0.9, "seed": 7, "stop": "END", "base_url": "http://x"}
    await chat.chat(chat.choose("groq"), [Message("user", "x")], options=options, max_tokens=50)
    body = llm_server.requests[0].body
    assert (body["temperature"], body["top_p"], body["seed"], body["stop"]) == (
        0.7,
        0.9,
        7,
        ["END"],
    )
    assert body["max_tokens"] == 50
    assert "base_url" not in body


async def test_anthropic_sampling_parameters(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    choice = chat.choose("anthropic")
    options = {"top_p": 0.8, "top_k": 40, "stop": ["END"]}
    await chat.chat(choice, [Message("user", "x")], temperature=1.5, options=options)
    body = llm_server.requests[0].body
    assert body["temperature"] == 1.0  # Claude's range ends at 1
    assert "top_p" not in body  # recent models take temperature or top_p, not both
    assert (body["top_k"], body["stop_sequences"]) == (40, ["END"])
    await chat.chat(choice, [Message("user", "x")], options={"top_p": 0.8})
    assert llm_server.requests[1].body["top_p"] == 0.8


@pytest.mark.parametrize(
    "options",
    [{"temperature": 5}, {"max_tokens": 0}, {"stop": ["a"] * 9}, {"enable_reasoning": "yes"}],
)
async def test_bad_option_values_are_refused(llm_server: LLMServer, options: Any) -> None:
    chat = models(llm_server)
    error = await failure(chat.chat(chat.choose("openai"), [Message("user", "x")], options=options))
    assert error.error_type == "invalid_model_config"
    assert next(iter(options)) in error.message
    assert llm_server.requests == []


async def test_enable_reasoning_maps_to_the_provider_option(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    options = {"enable_reasoning": True, "temperature": 0.3}
    await chat.chat(chat.choose("anthropic", "medium"), [Message("user", "x")], options=options)
    thinking = llm_server.requests[0].body
    assert thinking["thinking"]["type"] == "enabled"
    assert thinking["thinking"]["budget_tokens"] < thinking["max_tokens"]
    assert "temperature" not in thinking  # extended thinking allows no sampling changes
    await chat.chat(
        chat.choose("openai", model_override="o3-mini"), [Message("user", "x")], options=options
    )
    reasoning = llm_server.requests[1].body
    assert reasoning["reasoning_effort"] == "medium"
    assert "temperature" not in reasoning
    await chat.chat(chat.choose("openai", "medium"), [Message("user", "x")], options=options)
    plain = llm_server.requests[2].body
    assert "reasoning_effort" not in plain  # a model without the option: ignored
    assert plain["temperature"] == 0.3


# ---- structured output ----


@pytest.mark.parametrize("provider", BOTH)
async def test_structured_output_valid_at_once(llm_server: LLMServer, provider: str) -> None:
    chat = models(llm_server)
    llm_server.script(json_reply({"name": "Ada", "age": 36}, usage=(30, 9)))
    value, usage = await chat.structured(
        chat.choose(provider), [Message("user", "Who?")], schema=PERSON
    )
    assert value == {"name": "Ada", "age": 36}
    assert (usage.input_tokens, usage.output_tokens) == (30, 9)
    body = llm_server.requests[0].body
    if provider == "openai":
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["schema"] == PERSON
    else:
        assert body["tool_choice"]["type"] == "tool"
        [tool] = body["tools"]
        assert tool["name"] == body["tool_choice"]["name"]
        assert tool["input_schema"] == PERSON


@pytest.mark.parametrize("provider", BOTH)
async def test_structured_output_repaired_once(llm_server: LLMServer, provider: str) -> None:
    chat = models(llm_server)
    llm_server.script(
        json_reply({"name": "Ada", "age": "old"}, usage=(30, 9)),
        json_reply({"name": "Ada", "age": 36}, usage=(50, 8)),
    )
    value, usage = await chat.structured(
        chat.choose(provider), [Message("user", "Who?")], schema=PERSON
    )
    assert value == {"name": "Ada", "age": 36}
    assert (usage.input_tokens, usage.output_tokens) == (80, 17)
    first, second = llm_server.requests
    repair = second.body["messages"][-1]
    assert repair["role"] == "user"
    assert "/age" in repair["content"] and "integer" in repair["content"]
    assert second.body["messages"][-2]["role"] == "assistant"
    assert len(second.body["messages"]) == len(first.body["messages"]) + 2


@pytest.mark.parametrize("provider", BOTH)
async def test_structured_output_invalid_twice_fails(llm_server: LLMServer, provider: str) -> None:
    chat = models(llm_server)
    llm_server.script(json_reply({"name": "Ada"}), json_reply({"age": -1}))
    error = await failure(
        chat.structured(chat.choose(provider), [Message("user", "Who?")], schema=PERSON)
    )
    assert error.error_type == "llm_output_invalid"
    assert "name" in error.message and "required" in error.message
    assert len(llm_server.requests) == 2


async def test_structured_output_not_json_then_repaired(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    llm_server.script(text_reply("Sure! Ada, 36."), json_reply({"name": "Ada", "age": 36}))
    value, _ = await chat.structured(
        chat.choose("openai"), [Message("user", "Who?")], schema=PERSON
    )
    assert value == {"name": "Ada", "age": 36}
    assert "not JSON" in llm_server.requests[1].body["messages"][-1]["content"]


async def test_structured_output_in_a_fenced_block(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    llm_server.script(json_reply({"name": "Ada", "age": 36}, fenced=True))
    value, _ = await chat.structured(
        chat.choose("cohere"), [Message("user", "Who?")], schema=PERSON
    )
    assert value == {"name": "Ada", "age": 36}
    assert len(llm_server.requests) == 1


@pytest.mark.parametrize("provider", BOTH)
async def test_non_object_schema_is_wrapped_and_unwrapped(
    llm_server: LLMServer, provider: str
) -> None:
    chat = models(llm_server)
    schema = {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
    llm_server.script(json_reply({"value": ["b", "a"]}))
    value, _ = await chat.structured(chat.choose(provider), [Message("user", "x")], schema=schema)
    assert value == ["b", "a"]
    body = llm_server.requests[0].body
    sent = (
        body["response_format"]["json_schema"]["schema"]
        if provider == "openai"
        else body["tools"][0]["input_schema"]
    )
    assert sent == {"type": "object", "properties": {"value": schema}, "required": ["value"]}


async def test_wrapped_schema_keeps_its_definitions(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    schema = {
        "type": "array",
        "items": {"$ref": "#/definitions/party"},
        "definitions": {"party": {"type": "string", "minLength": 2}},
    }
    value, _ = await chat.structured(
        chat.choose("anthropic"), [Message("user", "Name the parties")], schema=schema
    )
    assert value and all(isinstance(item, str) and len(item) >= 2 for item in value)
    sent = llm_server.requests[0].body["tools"][0]["input_schema"]
    assert sent["definitions"] == schema["definitions"]
    assert sent["properties"]["value"]["items"] == {"$ref": "#/definitions/party"}


@pytest.mark.parametrize("provider", BOTH)
async def test_default_responder_satisfies_the_schema(llm_server: LLMServer, provider: str) -> None:
    chat = models(llm_server)
    schema = {
        "type": "object",
        "properties": {
            "clauses": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "kind": {"enum": ["termination", "liability"]},
                        "score": {"type": "number", "minimum": 0, "maximum": 1},
                        "text": {"type": "string", "maxLength": 10},
                    },
                    "required": ["kind", "score", "text"],
                },
            }
        },
        "required": ["clauses"],
    }
    value, _ = await chat.structured(
        chat.choose(provider), [Message("user", "Extract the clauses")], schema=schema
    )
    assert len(llm_server.requests) == 1  # valid at once
    assert value["clauses"][0]["kind"] == "termination"


async def test_unusable_output_schema_is_refused_before_any_call(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    schema = {"type": "object", "properties": {"a": {"$ref": "http://example.com/s.json"}}}
    error = await failure(
        chat.structured(chat.choose("openai"), [Message("user", "x")], schema=schema)
    )
    assert error.error_type == "invalid_output_schema"
    assert llm_server.requests == []


# ---- tool calls ----


@pytest.mark.parametrize("provider", BOTH)
async def test_tool_calls(llm_server: LLMServer, provider: str) -> None:
    chat = models(llm_server)
    llm_server.script(tool_reply(("search", {"query": "indemnity"}), text="Looking it up."))
    reply = await chat.chat(
        chat.choose(provider), [Message("user", "Find it")], tools=[SEARCH], require_tool=True
    )
    [call] = reply.tool_calls
    assert (call.name, dict(call.arguments), call.arguments_error) == (
        "search",
        {"query": "indemnity"},
        None,
    )
    assert call.call_id
    assert reply.text == "Looking it up."
    body = llm_server.requests[0].body
    if provider == "openai":
        assert body["tool_choice"] == "required"
        assert body["tools"][0]["function"]["name"] == "search"
        assert body["tools"][0]["function"]["parameters"] == SEARCH.parameters
    else:
        assert body["tool_choice"] == {"type": "any"}
        assert body["tools"][0]["input_schema"] == SEARCH.parameters


@pytest.mark.parametrize("provider", BOTH)
async def test_tools_offered_not_required(llm_server: LLMServer, provider: str) -> None:
    chat = models(llm_server)
    reply = await chat.chat(chat.choose(provider), [Message("user", "hi")], tools=[SEARCH])
    assert reply.tool_calls == ()
    choice = llm_server.requests[0].body["tool_choice"]
    assert choice == ("auto" if provider == "openai" else {"type": "auto"})


@pytest.mark.parametrize("provider", BOTH)
async def test_unparseable_tool_arguments(llm_server: LLMServer, provider: str) -> None:
    chat = models(llm_server)
    llm_server.script(tool_reply(("search", '{"query": "unterminated')))
    reply = await chat.chat(chat.choose(provider), [Message("user", "x")], tools=[SEARCH])
    [call] = reply.tool_calls
    assert call.name == "search"
    assert dict(call.arguments) == {}
    assert call.arguments_error is not None


# ---- retries, failures, timeouts ----


@pytest.mark.parametrize("provider", BOTH)
async def test_429_then_success(llm_server: LLMServer, provider: str) -> None:
    chat = models(llm_server)
    llm_server.script(error_reply(429, "slow down", retry_after=0), text_reply("done"))
    reply = await chat.chat(chat.choose(provider), [Message("user", "x")])
    assert reply.text == "done"
    assert len(llm_server.requests) == 2
    assert all(r.headers.get("x-stainless-retry-count") in (None, "0") for r in llm_server.requests)


@pytest.mark.parametrize("provider", BOTH)
async def test_5xx_until_the_attempts_are_spent(llm_server: LLMServer, provider: str) -> None:
    chat = models(llm_server, llm_max_attempts=3)
    llm_server.script(*(error_reply(500, "upstream exploded") for _ in range(3)))
    error = await failure(chat.chat(chat.choose(provider), [Message("user", "x")]))
    assert error.error_type == "llm_call_failed"
    assert "HTTP 500" in error.message and "upstream exploded" in error.message
    assert "3 attempts" in error.message
    assert len(llm_server.requests) == 3


async def test_4xx_is_not_retried(llm_server: LLMServer) -> None:
    chat = models(llm_server, llm_max_attempts=3)
    llm_server.script(error_reply(400, "model 'x' does not exist"))
    error = await failure(chat.chat(chat.choose("openai"), [Message("user", "x")]))
    assert error.error_type == "llm_call_failed"
    assert "HTTP 400" in error.message and "does not exist" in error.message
    assert len(llm_server.requests) == 1


async def test_error_excerpt_is_short_and_hides_the_key(llm_server: LLMServer) -> None:
    key = "sk-secret-0123456789"
    chat = models(llm_server, openai_api_key=key, llm_max_attempts=1)
    llm_server.script(error_reply(401, f"bad key {key}\n" + "x" * 5000))
    error = await failure(chat.chat(chat.choose("openai"), [Message("user", "x")]))
    assert key not in error.message
    assert "\n" not in error.message and len(error.message) < 600


@pytest.mark.parametrize("provider", BOTH)
async def test_garbage_body(llm_server: LLMServer, provider: str) -> None:
    chat = models(llm_server)
    llm_server.script(garbage_reply())
    error = await failure(chat.chat(chat.choose(provider), [Message("user", "x")]))
    assert error.error_type == "llm_call_failed"
    assert "not the" in error.message and "not json" in error.message
    assert len(llm_server.requests) == 1


async def test_json_of_the_wrong_shape(llm_server: LLMServer) -> None:
    chat = models(llm_server)
    llm_server.script(Reply(body=b'{"hello": "world"}'))
    error = await failure(chat.chat(chat.choose("openai"), [Message("user", "x")]))
    assert error.error_type == "llm_call_failed"
    assert "chat-completions JSON" in error.message


@pytest.mark.parametrize("provider", BOTH)
async def test_timeout(llm_server: LLMServer, provider: str) -> None:
    chat = models(llm_server, llm_timeout_seconds=0.2, llm_max_attempts=2)
    llm_server.script(slow_reply(60), slow_reply(60))
    error = await failure(chat.chat(chat.choose(provider), [Message("user", "x")]))
    assert error.error_type == "llm_timeout"
    assert "MODERATELY_LLM_TIMEOUT_SECONDS" in error.message
    assert len(llm_server.requests) == 2


async def test_unreachable_provider(llm_server: LLMServer) -> None:
    with Loopback() as closed:  # a port that answers, then one nobody listens on
        port = closed.port
    chat = models(llm_server, openai_base_url=f"http://127.0.0.1:{port}/v1", llm_max_attempts=2)
    error = await failure(chat.chat(chat.choose("openai"), [Message("user", "x")]))
    assert error.error_type == "llm_call_failed"
    assert "could not reach" in error.message


# ---- the outbound guard ----


async def test_guard_refuses_other_hosts_and_paths() -> None:
    with Loopback() as elsewhere:
        async with guarded_client("http://127.0.0.1:9/v1", timeout=5) as client:
            for url in (elsewhere.url("/v1/chat/completions"), "http://127.0.0.1:9/admin"):
                with pytest.raises(OutboundRefused):
                    await client.post(url, json={})
    assert elsewhere.connections == 0


async def test_redirects_are_not_followed(llm_server: LLMServer) -> None:
    with Loopback() as elsewhere:
        chat = models(llm_server, llm_max_attempts=1)
        llm_server.script(
            Reply(status=307, body=b"", headers={"Location": elsewhere.url("/v1/chat/completions")})
        )
        error = await failure(chat.chat(chat.choose("openai"), [Message("user", "x")]))
    assert error.error_type == "llm_call_failed"
    assert "307" in error.message
    assert elsewhere.connections == 0


# ---- the concurrency cap ----


async def test_concurrency_cap_in_one_process(llm_server: LLMServer) -> None:
    chat = models(llm_server, llm_max_concurrency=2)
    total = 6
    llm_server.handler = _meet_at(llm_server, 2, total)
    replies = await asyncio.gather(
        *(chat.chat(chat.choose("openai"), [Message("user", f"{i}")]) for i in range(total))
    )
    assert len(replies) == total
    assert llm_server.max_in_flight == 2


def _meet_at(server: LLMServer, cap: int, total: int) -> Any:
    """A handler that holds each call until `cap` are in flight (or all have arrived): with a
    working cap the server then sees exactly `cap` at once, never more."""

    def handler(protocol: str, body: dict[str, Any]) -> Reply:
        with server._lock:
            server._lock.wait_for(
                lambda: server.in_flight >= cap or len(server.requests) >= total, 30
            )
        return text_reply("ok")

    return handler


def _calls_in_a_job_process(settings: Settings, slots: SharedSlots, count: int) -> None:
    """What a worker's job process does: install the worker's slots, then make calls."""
    install_shared_slots(slots)
    chat = build_chat_models(settings)

    async def run() -> None:
        choice = chat.choose("anthropic")
        await asyncio.gather(*(chat.chat(choice, [Message("user", "x")]) for _ in range(count)))

    asyncio.run(run())


async def test_concurrency_cap_is_shared_across_processes(llm_server: LLMServer) -> None:
    cap, processes, each = 2, 3, 2
    settings = settings_for(llm_server, llm_max_concurrency=cap, llm_timeout_seconds=60)
    slots = SharedSlots.create(cap)
    llm_server.handler = _meet_at(llm_server, cap, processes * each)
    context = multiprocessing.get_context("forkserver")
    children = [
        context.Process(target=_calls_in_a_job_process, args=(settings, slots, each))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    for child in children:
        await asyncio.to_thread(child.join, 120)
    assert [child.exitcode for child in children] == [0] * processes
    assert len(llm_server.requests) == processes * each
    assert llm_server.max_in_flight == cap


def test_a_dead_holder_frees_its_slot() -> None:
    slots = SharedSlots.create(1)
    held = slots.try_acquire()
    assert held is not None and slots.try_acquire() is None  # one slot: taken
    os.close(held)
    context = multiprocessing.get_context("forkserver")
    holder = context.Process(target=_hold_and_die, args=(slots,))
    holder.start()
    holder.join(60)
    assert holder.exitcode == -signal.SIGKILL  # it died holding the slot
    freed = slots.try_acquire()
    assert freed is not None
    os.close(freed)


def _hold_and_die(slots: SharedSlots) -> None:
    assert slots.try_acquire() is not None
    os.kill(os.getpid(), signal.SIGKILL)


def test_one_chat_models_serves_several_event_loops(llm_server: LLMServer) -> None:
    # A process may run more than one loop (the engine's watcher has its own): each gets its
    # own client, so a pool bound to an ended loop is never reused.
    chat = models(llm_server)
    for text in ("first", "second"):
        llm_server.script(text_reply(text))
        reply = asyncio.run(chat.chat(chat.choose("openai"), [Message("user", "x")]))
        assert reply.text == text
