"""The `llm` block with the real AI layer against the loopback provider."""

from __future__ import annotations

from typing import Any

import pytest
from ai_blocks_helpers import chat_messages, feeding, system_text
from ai_helpers import ai_for
from engine_helpers import assert_completed, conn, document, entry, out
from llm_server import LLMServer, error_reply, json_reply, text_reply

from moderately.engine import RunResult, run_pipeline, validate_configuration
from moderately.engine.blocks.llm import DATASET_CONTEXT_CHARS
from moderately.engine.registry import get_block_type
from moderately.engine.testing import InMemoryContext

pytestmark = pytest.mark.anyio

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "score": {"type": "number", "maximum": 1}},
    "required": ["answer", "score"],
}


def llm(**config: Any) -> dict[str, Any]:
    return entry("llm", "llm", {"provider": "openai", **config})


async def run_llm(
    server: LLMServer,
    feeds: dict[str, Any],
    *,
    ctx: InMemoryContext | None = None,
    outputs: tuple[str, ...] = ("response", "usage"),
    **config: Any,
) -> RunResult:
    return await run_pipeline(
        feeding(llm(**config), feeds, outputs), {}, ctx or InMemoryContext(), ai=ai_for(server)
    )


def test_declarations() -> None:
    ports = get_block_type("llm").static_ports()
    assert ports.primary_input is not None and ports.primary_input.name == "messages"
    assert ports.output("result") == ports.output("response") == ports.primary_output
    assert ports.input("datasets") is not None and ports.input("datasets").multi


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "error_type"),
    [
        ({}, "missing_required_config"),
        ({"provider": "mistral"}, "invalid_config"),
        ({"provider": "openai", "model": "huge"}, "invalid_config"),
        ({"provider": "openai", "temperature": 2.5}, "invalid_config"),
        ({"provider": "openai", "max_tokens": 0}, "invalid_config"),
        ({"provider": "openai", "max_tokens": 100_001}, "invalid_config"),
        ({"provider": "openai", "output_schema": {"type": "strange"}}, "invalid_json_schema"),
    ],
)
def test_config_errors(config: dict[str, Any], error_type: str) -> None:
    doc = document(
        entry("q", "constant", {"config_value": "hi"}),
        entry("llm", "llm", config),
        connections=[conn("q", "llm", "data", "prompt")],
    )
    assert validate_configuration(doc).error_types() == [error_type]


def test_messages_or_prompt_must_be_connected() -> None:
    doc = document(
        entry("s", "constant", {"config_value": "be brief"}),
        llm(),
        connections=[conn("s", "llm", "data", "system")],
    )
    report = validate_configuration(doc)
    assert report.error_types() == ["missing_required_input"]
    assert report.errors[0].to_wire()["portName"] == "messages"
    only_prompt = document(
        entry("q", "constant", {"config_value": "hi"}),
        llm(),
        connections=[conn("q", "llm", "data", "prompt")],
    )
    assert validate_configuration(only_prompt).error_types() == []


# -- messages -----------------------------------------------------------------------------------


async def test_a_string_is_one_user_message(llm_server: LLMServer) -> None:
    llm_server.script(text_reply("Hello there", usage=(5, 3)))
    result = await run_llm(llm_server, {"messages": "Hi model"})
    assert_completed(result)
    assert result.output == {
        "response": "Hello there",
        "usage": {
            "provider": "openai",
            "model": result.output["usage"]["model"],
            "input_tokens": 5,
            "output_tokens": 3,
        },
    }
    (request,) = llm_server.requests
    assert chat_messages(request) == [("user", "Hi model")]
    assert request.body["temperature"] == 0.2


async def test_history_roles_and_content_forms(llm_server: LLMServer) -> None:
    history = [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": [{"type": "text", "text": "Bon"}, {"text": "jour"}, 3]},
        {"role": "assistant", "content": {"greeting": "salut"}},
        {"role": "user", "content": None},
        "And one more",
    ]
    result = await run_llm(
        llm_server, {"messages": history, "prompt": "final question", "system": "Be brief."}
    )
    assert_completed(result)
    (request,) = llm_server.requests
    assert chat_messages(request) == [
        ("user", "Bonjour"),
        ("assistant", '{"greeting":"salut"}'),
        ("user", ""),
        ("user", "And one more"),
        ("user", "final question"),
    ]
    assert system_text(request) == "Be brief.\n\nAnswer in French."


async def test_one_message_object_and_anthropic_system(llm_server: LLMServer) -> None:
    result = await run_llm(
        llm_server,
        {"messages": {"role": "user", "content": "ping"}, "system": "sys"},
        provider="anthropic",
        model="medium",
    )
    assert_completed(result)
    (request,) = llm_server.requests
    assert request.protocol == "anthropic"
    assert system_text(request) == "sys"
    assert chat_messages(request) == [("user", "ping")]
    assert result.output is not None
    assert result.output["response"] == "Reply to: ping"  # the loopback's default answer
    assert result.output["usage"]["provider"] == "anthropic"


@pytest.mark.parametrize("role", ["tool", "bot", None, 7])
async def test_unknown_role_fails(llm_server: LLMServer, role: Any) -> None:
    message: dict[str, Any] = {"content": "x"} if role is None else {"role": role, "content": "x"}
    result = await run_llm(llm_server, {"messages": [{"role": "user", "content": "a"}, message]})
    assert result.status == "failed"
    assert result.error_type == "invalid_message_role"
    assert "item 1" in (result.error or "")
    assert llm_server.requests == []


async def test_other_message_shapes_fail_clearly(llm_server: LLMServer) -> None:
    result = await run_llm(llm_server, {"messages": [42]})
    assert result.status == "failed"
    assert result.error_type == "invalid_input"
    only_system = await run_llm(llm_server, {"messages": {"role": "system", "content": "x"}})
    assert only_system.status == "failed"
    assert only_system.error_type == "invalid_input"
    assert llm_server.requests == []


async def test_messages_template_fills_placeholders(llm_server: LLMServer) -> None:
    """The abandoned chat revision of example 04: a template of messages plus variables, read
    through the `result` alias."""
    messages = [{"role": "user", "content": "Question: {{question}} ({{ meta.lang }}) {{nope}}"}]
    result = await run_llm(
        llm_server,
        {
            "messages": messages,
            "messages_template": {"question": "What is ESA?", "meta": {"lang": "en"}},
            "prompt": "Context: {{question}}",
        },
        outputs=("result",),
    )
    assert_completed(result)
    (request,) = llm_server.requests
    assert chat_messages(request) == [
        ("user", "Question: What is ESA? (en) {{nope}}"),
        ("user", "Context: What is ESA?"),
    ]
    assert result.output == {"result": "Reply to: Context: What is ESA?"}
    assert any("{{nope}}" in warning for warning in result.progress_data["warnings"])


async def test_messages_template_must_be_an_object(llm_server: LLMServer) -> None:
    result = await run_llm(llm_server, {"messages": "hi", "messages_template": ["a"]})
    assert result.status == "failed"
    assert result.error_type == "invalid_input"


# -- dataset context ----------------------------------------------------------------------------


async def test_datasets_and_context_go_into_the_system_text(llm_server: LLMServer) -> None:
    ctx = InMemoryContext()
    ctx.add_dataset(
        "ds_laws",
        [{"source": "ESA", "section": "Part XV, notice"}, {"source": "OHSA", "section": None}],
        name="laws",
    )
    rows = [{"city": "Toronto", "n": 3}, {"city": "Ottawa", "n": 1.5}]
    result = await run_llm(
        llm_server,
        {"messages": "hi", "datasets": ["ds_laws", rows], "context": {"client": "ACME"}},
        ctx=ctx,
    )
    assert_completed(result)
    system = system_text(llm_server.requests[0])
    assert 'Dataset laws (2 rows, CSV):\nsource,section\nESA,"Part XV, notice"\nOHSA,' in system
    assert "city,n\nToronto,3\nOttawa,1.5" in system
    assert 'Context (JSON):\n{"client":"ACME"}' in system
    assert "truncated" not in system


async def test_dataset_rows_from_a_dataset_block(llm_server: LLMServer) -> None:
    """A `dataset` block's rows arrive flattened on the multi port and are one table again."""
    ctx = InMemoryContext()
    ctx.add_dataset("ds_1", [{"a": "1"}, {"a": "2"}], name="one")
    doc = document(
        entry("ds", "dataset", {"dataset_id": "ds_1"}),
        entry("q", "constant", {"config_value": "hi"}),
        llm(),
        out("o"),
        connections=[
            conn("ds", "llm", "data", "datasets"),
            conn("q", "llm", "data", "messages"),
            conn("llm", "o", "response", "data"),
        ],
    )
    result = await run_pipeline(doc, {}, ctx, ai=ai_for(llm_server))
    assert_completed(result)
    assert "a\n1\n2" in system_text(llm_server.requests[0])


async def test_dataset_context_is_capped_with_a_note(llm_server: LLMServer) -> None:
    ctx = InMemoryContext()
    row_text = "x" * 90
    ctx.add_dataset("big", [{"id": n, "text": row_text} for n in range(4000)], name="big")
    ctx.add_dataset("later", [{"id": 1}], name="later")
    result = await run_llm(llm_server, {"messages": "hi", "datasets": ["big", "later"]}, ctx=ctx)
    assert_completed(result)
    system = system_text(llm_server.requests[0])
    assert DATASET_CONTEXT_CHARS < 4000 * 90  # the dataset is larger than the cap
    assert len(system) <= DATASET_CONTEXT_CHARS + 1000
    assert "of 4,000 rows shown" in system
    assert "[1 more dataset(s) not included" in system
    assert "Dataset later" not in system


async def test_missing_dataset_fails_the_block(llm_server: LLMServer) -> None:
    result = await run_llm(llm_server, {"messages": "hi", "datasets": ["nope"]})
    assert result.status == "failed"
    assert result.error_type == "dataset_not_found"


# -- structured output --------------------------------------------------------------------------


async def test_structured_output_is_the_parsed_value(llm_server: LLMServer) -> None:
    llm_server.script(json_reply({"answer": "yes", "score": 0.5}))
    result = await run_llm(llm_server, {"messages": "Is it?"}, output_schema=ANSWER_SCHEMA)
    assert_completed(result)
    assert result.output is not None
    assert result.output["response"] == {"answer": "yes", "score": 0.5}
    assert llm_server.requests[0].body["response_format"]["type"] == "json_schema"


async def test_structured_output_repaired_after_one_invalid_reply(llm_server: LLMServer) -> None:
    llm_server.script(
        json_reply({"answer": "yes", "score": 7}, usage=(10, 4)),
        json_reply({"answer": "yes", "score": 0.9}, fenced=True, usage=(20, 6)),
    )
    result = await run_llm(
        llm_server, {"messages": "Is it?"}, output_schema=ANSWER_SCHEMA, provider="anthropic"
    )
    assert_completed(result)
    assert result.output is not None
    assert result.output["response"] == {"answer": "yes", "score": 0.9}
    assert len(llm_server.requests) == 2
    usage = result.output["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (30, 10)


async def test_structured_output_invalid_twice_fails(llm_server: LLMServer) -> None:
    llm_server.script(json_reply({"answer": 1}), text_reply("not json at all"))
    result = await run_llm(llm_server, {"messages": "Is it?"}, output_schema=ANSWER_SCHEMA)
    assert result.status == "failed"
    assert result.error_type == "llm_output_invalid"
    assert result.failed_block == "llm"


async def test_non_object_schema(llm_server: LLMServer) -> None:
    llm_server.script(json_reply({"value": ["a", "b"]}))
    result = await run_llm(
        llm_server,
        {"messages": "List two"},
        output_schema={"type": "array", "items": {"type": "string"}},
    )
    assert_completed(result)
    assert result.output is not None
    assert result.output["response"] == ["a", "b"]


# -- providers, retries, usage ------------------------------------------------------------------


async def test_provider_not_configured(llm_server: LLMServer) -> None:
    ai = ai_for(llm_server, openai_base_url=None, openai_api_key=None)
    doc = feeding(llm(), {"messages": "hi"}, ("response",))
    result = await run_pipeline(doc, {}, InMemoryContext(), ai=ai)
    assert result.status == "failed"
    assert result.error_type == "provider_not_configured"
    assert llm_server.requests == []


async def test_429_then_success(llm_server: LLMServer) -> None:
    llm_server.script(error_reply(429, "slow down", retry_after=0), text_reply("after retry"))
    result = await run_llm(llm_server, {"messages": "hi"}, model_override="my-exact-model")
    assert_completed(result)
    assert result.output is not None
    assert result.output["response"] == "after retry"
    assert [request.body["model"] for request in llm_server.requests] == ["my-exact-model"] * 2
    assert result.output["usage"]["model"] == "my-exact-model"


async def test_failure_after_the_retries(llm_server: LLMServer) -> None:
    llm_server.script(*[error_reply(503) for _ in range(3)])
    result = await run_llm(llm_server, {"messages": "hi"})
    assert result.status == "failed"
    assert result.error_type == "llm_call_failed"
    assert len(llm_server.requests) == 3


async def test_usage_totals_in_progress(llm_server: LLMServer) -> None:
    llm_server.script(text_reply("one", usage=(100, 10)), text_reply("two", usage=(50, 5)))
    doc = document(
        entry("q", "constant", {"config_value": "hi"}),
        entry("a", "llm", {"provider": "openai", "max_tokens": 64}),
        entry("b", "llm", {"provider": "openai"}),
        out("o"),
        out("u", "usage"),
        connections=[
            conn("q", "a", "data", "messages"),
            conn("a", "b", "response", "prompt"),
            conn("b", "o", "response", "data"),
            conn("b", "u", "usage", "data"),
        ],
    )
    result = await run_pipeline(doc, {}, InMemoryContext(), ai=ai_for(llm_server))
    assert_completed(result)
    assert result.output is not None
    assert result.output["o"] == "two"
    assert result.output["usage"]["input_tokens"] == 50
    assert result.progress_data["llm_usage"] == {
        "calls": 2,
        "input_tokens": 150,
        "output_tokens": 15,
    }
    assert llm_server.requests[0].body["max_completion_tokens"] == 64
    assert chat_messages(llm_server.requests[1]) == [("user", "one")]


async def test_llm_as_a_map_target(llm_server: LLMServer) -> None:
    doc = document(
        entry("qs", "constant", {"config_value": ["q1", "q2", "q3"]}),
        entry(
            "m",
            "map",
            {
                "target_block_type": "llm",
                "target_config": {"provider": "groq"},
                "max_concurrency": 2,
            },
        ),
        entry("s", "constant", {"config_value": "terse"}),
        out("o"),
        connections=[
            conn("qs", "m"),
            conn("s", "m", "data", "system"),
            conn("m", "o"),
        ],
    )
    result = await run_pipeline(doc, {}, InMemoryContext(), ai=ai_for(llm_server))
    assert_completed(result)
    assert result.output == {"o": ["Reply to: q1", "Reply to: q2", "Reply to: q3"]}
    assert result.progress_data["llm_usage"]["calls"] == 3
    assert all(system_text(request) == "terse" for request in llm_server.requests)


def test_the_configuration_schema_lists_the_ai_blocks() -> None:
    from moderately.engine import configuration_json_schema

    schema = configuration_json_schema()
    types = schema["definitions"]["Block"]["properties"]["type"]["enum"]
    assert {"llm", "clause_extraction_agent", "legal_variance_determination"} <= set(types)
    llm_config = schema["definitions"]["config:llm"]
    assert llm_config["required"] == ["provider"]
    assert llm_config["properties"]["provider"]["enum"] == [
        "openai",
        "anthropic",
        "cohere",
        "groq",
        "cerebras",
        "google",
        "vertexai",
    ]
    clause_config = schema["definitions"]["config:clause_extraction_agent"]
    assert clause_config["required"] == ["instructions"]
    assert "required" not in schema["definitions"]["config:legal_variance_determination"]
