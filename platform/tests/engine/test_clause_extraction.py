"""`clause_extraction_agent` on example 04's data, with the real PDF reader,
embedding model and chat adapters against the loopback provider (a scripted responder)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ai_blocks_helpers import EXAMPLES, feeding, read_csv_rows
from ai_helpers import ai_for
from engine_helpers import assert_completed, conn, document, entry
from llm_server import LLMServer, Reply, default_reply, json_reply, last_user_text

from moderately.engine import RunResult, run_pipeline, validate_configuration
from moderately.engine.registry import get_block_type
from moderately.engine.testing import InMemoryContext
from moderately.engine.verbatim import normalise

pytestmark = pytest.mark.anyio

DATA = EXAMPLES / "04-legal-document-extraction"
INSTRUCTIONS = "Extract all clauses following the clause definitions dataset."

# Quoted with other line breaks and spacing than the PDF text: whitespace does not count.
WAGE = (
    "The Employer shall remunerate the Employee for his/her services under this Agreement "
    "at the starting wage of $ 19.00 per hour plus statutory benefits."
)
CONFIDENTIAL_1 = "The Employee shall keep confidential any information obtained about the Employer"
CONFIDENTIAL_2 = (
    "Upon direction by the Employer, the Employee shall keep\nconfidential any other "
    "matters concerning the Employer."
)
FABRICATED = "The Employee shall receive a signing bonus of $50,000 on the first day."


def extraction_answers() -> dict[str, dict[str, Any]]:
    """What the scripted model answers per clause number (every other clause: not found)."""
    return {
        "004": {
            "found": True,
            "excerpts": [
                {"section": "3", "text": WAGE},
                {"section": "3", "text": FABRICATED},
                {"section": "3.1", "text": "  " + WAGE.replace(" ", "\n", 3)},  # a duplicate
            ],
            "reasoning": "Section 3.1 sets the hourly wage.",
        },
        "025": {
            "found": True,
            "excerpts": [  # given in reverse document order
                {"section": "6.2", "text": CONFIDENTIAL_2},
                {"section": "6.1", "text": CONFIDENTIAL_1},
            ],
            "reasoning": "Section 6 is about confidentiality.",
        },
        "022": {  # "found", but only with an invented excerpt
            "found": True,
            "excerpts": [{"section": "9", "text": "The Employee shall not compete for 5 years."}],
            "reasoning": "Invented.",
        },
    }


def schema_properties(body: dict[str, Any]) -> dict[str, Any]:
    if "response_format" in body:
        return body["response_format"]["json_schema"]["schema"].get("properties", {})
    for tool in body.get("tools") or ():
        return tool.get("input_schema", {}).get("properties", {})
    return {}


class Responder:
    """Search requests get the loopback's default (valid) answer; extraction requests the
    answers above, by the clause number in the prompt."""

    def __init__(self, server: LLMServer) -> None:
        self.server = server
        self.answers = extraction_answers()
        self.extraction_prompts: dict[str, str] = {}
        self.extraction_systems: dict[str, str] = {}

    def __call__(self, protocol: Any, body: dict[str, Any]) -> Reply:
        if "found" not in schema_properties(body):
            return default_reply(protocol, body)
        prompt = last_user_text(protocol, body)
        match = re.search(r"Clause number: (\S+)", prompt)
        assert match is not None, prompt[:300]
        number = match.group(1)
        self.extraction_prompts[number] = prompt
        self.extraction_systems[number] = body["messages"][0]["content"]
        default = {"found": False, "excerpts": [], "reasoning": "Not in the passages."}
        return json_reply(self.answers.get(number, default))


def example_context() -> tuple[InMemoryContext, str]:
    ctx = InMemoryContext(keep_snapshots=True)
    pdf = ctx.add_file(
        (DATA / "employment_agreement.pdf").read_bytes(),
        file_name="employment_agreement.pdf",
        mime_type="application/pdf",
    )
    ctx.add_dataset("ds_definitions", read_csv_rows(DATA / "clause_definitions.csv"))
    ctx.add_dataset("ds_context", read_csv_rows(DATA / "context.csv"))
    return ctx, pdf.file_id


def agent(**config: Any) -> dict[str, Any]:
    return entry("extract", "clause_extraction_agent", {"instructions": INSTRUCTIONS, **config})


async def run_agent(
    server: LLMServer, ctx: InMemoryContext, feeds: dict[str, Any], **config: Any
) -> RunResult:
    doc = feeding(agent(**config), feeds, ("results",))
    return await run_pipeline(doc, {}, ctx, ai=ai_for(server))


def test_declarations_and_defaults() -> None:
    block_type = get_block_type("clause_extraction_agent")
    ports = block_type.static_ports()
    assert ports.primary_input is not None and ports.primary_input.name == "file_id"
    assert [port.name for port in ports.inputs if port.required] == ["file_id", "dataset_id"]
    assert ports.primary_output is not None and ports.primary_output.name == "results"
    config = block_type.parse_config({"instructions": "x"})
    assert (config.chunk_size, config.chunk_overlap, config.semantic_filter_top_k) == (
        1000,
        200,
        10,
    )
    assert (config.similarity_threshold, config.max_concurrency) == (0.1, 3)
    assert (config.search_llm_model, config.extraction_llm_model) == ("small", "small")
    assert config.search_llm_provider is None and config.extraction_llm_provider is None


@pytest.mark.parametrize(
    ("config", "error_type"),
    [
        ({}, "missing_required_config"),
        ({"instructions": "x", "chunk_size": 100, "chunk_overlap": 100}, "invalid_config"),
        ({"instructions": "x", "max_concurrency": 0}, "invalid_config"),
        ({"instructions": "x", "extraction_llm_provider": "acme"}, "invalid_config"),
        ({"instructions": "x", "search_llm_model": "tiny"}, "invalid_config"),
    ],
)
def test_config_errors(config: dict[str, Any], error_type: str) -> None:
    doc = document(
        entry("f", "constant", {"config_value": "file_1"}),
        entry("d", "constant", {"config_value": "ds_1"}),
        entry("extract", "clause_extraction_agent", config),
        connections=[
            conn("f", "extract", "data", "file_id"),
            conn("d", "extract", "data", "dataset_id"),
        ],
    )
    assert validate_configuration(doc).error_types() == [error_type]


async def test_example_04(llm_server: LLMServer) -> None:
    responder = Responder(llm_server)
    llm_server.handler = responder
    ctx, file_id = example_context()
    result = await run_agent(
        llm_server,
        ctx,
        {"file_id": file_id, "dataset_id": "ds_definitions", "context_dataset_id": "ds_context"},
        max_concurrency=2,
    )
    assert_completed(result)
    assert result.output is not None
    results = result.output["results"]
    definitions = read_csv_rows(DATA / "clause_definitions.csv")
    numbers = [row["clause_number"] for row in definitions]

    found = results["standard_clauses"]
    assert [clause["clause_number"] for clause in found] == ["004", "025"]
    assert [clause["clause_name"] for clause in found] == [
        "Base Salary/Wages",
        "Confidentiality Obligations",
    ]
    assert results["clauses_not_found"] == [n for n in numbers if n not in ("004", "025")]

    wage, confidentiality = found
    # the fabricated excerpt is dropped, the duplicate folded; the text is the document's own
    assert [normalise(excerpt["text"]) for excerpt in wage["excerpts"]] == [normalise(WAGE)]
    assert "\n" in wage["excerpts"][0]["text"]  # the PDF's line breaks, not the quote's
    assert wage["excerpts"][0]["section"] == "3. REMUNERATION"
    assert wage["reasoning"] == "Section 3.1 sets the hourly wage."
    # in document order, whatever order the model gave
    assert [normalise(excerpt["text"]) for excerpt in confidentiality["excerpts"]] == [
        normalise(CONFIDENTIAL_1),
        normalise(CONFIDENTIAL_2),
    ]
    assert {excerpt["section"] for excerpt in confidentiality["excerpts"]} == {"6. CONFIDENTIALITY"}
    warnings = result.progress_data["warnings"]
    assert any("clause 004: 1 excerpt(s) not found verbatim" in warning for warning in warnings)
    assert any("clause 022: 1 excerpt(s) not found verbatim" in warning for warning in warnings)

    # one search call per clause; an extraction call per clause with candidates
    search_calls = [r for r in llm_server.requests if "queries" in schema_properties(r.body)]
    assert len(search_calls) == len(definitions)
    assert set(responder.extraction_prompts) <= set(numbers)
    assert {"004", "022", "025"} <= set(responder.extraction_prompts)
    prompt = responder.extraction_prompts["004"]
    assert "Clause name: Base Salary/Wages" in prompt and "Exclude: Must exclude" in prompt
    assert re.search(r"\[Passage 1 \| section: [^|]+ \| page \d\]", prompt)
    system = responder.extraction_systems["004"]
    assert system.startswith(INSTRUCTIONS)
    assert "Employment Standards Act 2000 (ESA)" in system  # the context dataset
    assert llm_server.max_in_flight <= 2
    usage = result.progress_data["llm_usage"]
    assert usage["calls"] == len(llm_server.requests)

    # progress: the four phases in order, items = clauses
    phases: list[str] = []
    for snapshot in ctx.snapshots:
        phase = snapshot["blocks"]["extract"].get("phase")
        if phase is not None and (not phases or phases[-1] != phase):
            phases.append(phase)
    assert phases == ["reading", "chunking", "retrieving", "extracting"]
    final = result.progress_data["blocks"]["extract"]
    assert final["items_total"] == final["items_completed"] == len(definitions)


async def test_markdown_file_and_rows_on_the_ports(llm_server: LLMServer) -> None:
    text = (
        "# Services agreement\n\nARTICLE 1 - WAGES\nThe wage is twenty dollars per hour, "
        "paid every second Friday.\n\nARTICLE 2 - TERM\nThe term is one year.\n"
    )

    def answer(protocol: Any, body: dict[str, Any]) -> Reply:
        if "found" not in schema_properties(body):
            return json_reply({"queries": ["wage per hour", "wage per hour", "pay"]})
        quote = "The wage is twenty dollars  per hour,"
        return json_reply(
            {
                "found": True,
                "excerpts": [{"section": "?", "text": quote}],
                "reasoning": "Article 1.",
            }
        )

    llm_server.handler = answer
    ctx = InMemoryContext()
    contract = ctx.add_file(text.encode(), file_name="contract.md", mime_type="text/markdown")
    definitions = [{"Clause_Number": "7", "Clause_Description": "Wages"}]  # the older header
    result = await run_agent(
        llm_server,
        ctx,
        {"file_id": contract.ref(), "dataset_id": definitions},
        chunk_size=60,
        chunk_overlap=10,
        similarity_threshold=-1,
        semantic_filter_top_k=2,
        search_llm_provider="anthropic",
    )
    assert_completed(result)
    assert result.output == {
        "results": {
            "standard_clauses": [
                {
                    "clause_number": "7",
                    "clause_name": "Wages",
                    "excerpts": [
                        {
                            "section": "ARTICLE 1 - WAGES",
                            "text": "The wage is twenty dollars per hour,",
                        }
                    ],
                    "reasoning": "Article 1.",
                }
            ],
            "clauses_not_found": [],
        }
    }
    search, extraction = llm_server.requests
    assert search.protocol == "anthropic" and extraction.protocol == "openai"
    assert extraction.body["messages"][-1]["content"].count("[Passage ") == 2


async def test_unsupported_file_type(llm_server: LLMServer) -> None:
    ctx = InMemoryContext()
    image = ctx.add_file(b"\x89PNG\r\n\x1a\n....", file_name="scan.png", mime_type="image/png")
    result = await run_agent(
        llm_server, ctx, {"file_id": image.file_id, "dataset_id": [{"clause_number": "1"}]}
    )
    assert result.status == "failed"
    assert result.error_type == "unsupported_file_type"


async def test_definitions_need_clause_number(llm_server: LLMServer) -> None:
    ctx, file_id = example_context()
    result = await run_agent(
        llm_server, ctx, {"file_id": file_id, "dataset_id": [{"name": "Wages"}]}
    )
    assert result.status == "failed"
    assert result.error_type == "invalid_input"
    assert "clause_number" in (result.error or "")
    assert llm_server.requests == []


async def test_provider_not_configured_fails_before_any_call(llm_server: LLMServer) -> None:
    ctx, file_id = example_context()
    doc = feeding(
        agent(extraction_llm_provider="groq"),
        {"file_id": file_id, "dataset_id": "ds_definitions"},
        ("results",),
    )
    ai = ai_for(llm_server, groq_base_url=None, groq_api_key=None)
    result = await run_pipeline(doc, {}, ctx, ai=ai)
    assert result.status == "failed"
    assert result.error_type == "provider_not_configured"
    assert llm_server.requests == []


def test_normalised_text_locates_spans_of_the_original() -> None:
    from moderately.engine.verbatim import NormalisedText

    text = "5.1 The Employee\n  shall follow\tthe direction.\n5.2 Other"
    doc = NormalisedText(text)
    span = doc.locate("Employee shall   follow")
    assert span is not None
    assert text[span[0] : span[1]] == "Employee\n  shall follow"
    assert doc.locate("mployee shall fol") is not None  # inside words too
    assert doc.locate("Employee must follow") is None
    assert doc.locate("   ") is None


async def test_chunks_are_bounded_by_the_embedding_budget(llm_server: LLMServer) -> None:
    from moderately.engine import Budgets

    ctx = InMemoryContext()
    text = "\n\n".join(f"Paragraph {n} of the agreement." for n in range(50))
    contract = ctx.add_file(text.encode(), file_name="c.txt", mime_type="text/plain")
    doc = feeding(
        agent(chunk_size=40, chunk_overlap=0),
        {"file_id": contract.file_id, "dataset_id": [{"clause_number": "1"}]},
        ("results",),
    )
    result = await run_pipeline(
        doc, {}, ctx, ai=ai_for(llm_server), budgets=Budgets(embedding_max_texts=10)
    )
    assert result.status == "failed"
    assert result.error_type == "resource_limit"
    assert "MODERATELY_JOB_EMBEDDING_MAX_TEXTS" in (result.error or "")
    assert llm_server.requests == []
