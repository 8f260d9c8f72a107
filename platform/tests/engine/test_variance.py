"""`legal_variance_determination` (docs/reference/blocks.md) on example 05's data, with the real
embedding model and chat adapters against the loopback provider."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ai_blocks_helpers import EXAMPLES, feeding, read_csv_rows, read_json
from ai_helpers import ai_for
from engine_helpers import assert_completed, conn, document, entry
from llm_server import LLMServer, Reply, json_reply, last_user_text, text_reply

from moderately.engine import RunResult, run_pipeline, validate_configuration
from moderately.engine.blocks.legal_variance import DECISIONS, MATERIALITY, clause_key
from moderately.engine.registry import get_block_type
from moderately.engine.testing import InMemoryContext

pytestmark = pytest.mark.anyio

DATA = EXAMPLES / "05-variance-analysis"
GENERAL = "Ontario employment law framework: assess risk under the ESA and common law."
TRANSACTION = "A personal attendant hired by an employer with a physical disability."


class Responder:
    """Answers every determination; MODIFY with a clause-specific confidence for clause 2."""

    def __init__(self) -> None:
        self.prompts: dict[str, str] = {}
        self.systems: list[str] = []

    def __call__(self, protocol: Any, body: dict[str, Any]) -> Reply:
        prompt = last_user_text(protocol, body)
        match = re.match(r"Clause number: (\S+)", prompt)
        assert match is not None, prompt[:200]
        number = match.group(1)
        self.prompts[number] = prompt
        self.systems.append(body["messages"][0]["content"])
        modify = number == "2"
        return json_reply(
            {
                "decision": "MODIFY" if modify else "ACCEPT",
                "materiality": "MATERIAL" if modify else "DE_MINIMIS",
                "confidence": 0.83 if modify else 0.6,
                "reasoning": f"Reasoning for clause {number}.",
                "drafting_instructions": ["Add OHSA safety duties", "Name the supervisor"]
                if modify
                else [],
                "research_insights": [
                    {"topic": "Farber", "source_type": "Case Law", "insight": "Essential terms."}
                ],
            }
        )


def example_context() -> InMemoryContext:
    ctx = InMemoryContext()
    for dataset_id, file_name in (
        ("ds_definitions", "clause_definitions.csv"),
        ("ds_benchmarks", "benchmark_clauses.csv"),
        ("ds_research", "research_materials.csv"),
        ("ds_guidance", "variance_guidance.csv"),
    ):
        ctx.add_dataset(dataset_id, read_csv_rows(DATA / file_name))
    return ctx


def feeds(clauses: Any) -> dict[str, Any]:
    return {
        "extracted_clauses": clauses,
        "clause_definition_dataset_id": "ds_definitions",
        "benchmark_dataset_ids": ["ds_benchmarks"],
        "research_dataset_ids": ["ds_research"],
        "clause_variance_guidance_dataset_id": "ds_guidance",
    }


async def run_variance(
    server: LLMServer, clauses: Any, ctx: InMemoryContext | None = None, **config: Any
) -> RunResult:
    block = entry(
        "variance",
        "legal_variance_determination",
        {
            "general_instructions": GENERAL,
            "clause_definition": "",
            "transaction_context": TRANSACTION,
            **config,
        },
    )
    doc = feeding(block, feeds(clauses), ("results",))
    return await run_pipeline(doc, {}, ctx or example_context(), ai=ai_for(server))


def test_clause_numbers_match_by_integer_value() -> None:
    assert clause_key("2") == clause_key("002") == clause_key(2) == clause_key(2.0) == "2"
    assert clause_key(" 7 ") == clause_key("007") == "7"
    assert clause_key("A1") == "A1" and clause_key("2a") == "2a"
    assert clause_key("1" * 60) == "1" * 60  # not parsed as an integer


def test_declarations_and_defaults() -> None:
    block_type = get_block_type("legal_variance_determination")
    ports = block_type.static_ports()
    assert ports.primary_input is not None and ports.primary_input.name == "extracted_clauses"
    required = [port.name for port in ports.inputs if port.required]
    assert required == ["extracted_clauses", "clause_definition_dataset_id"]
    assert all(
        ports.input(name).multi for name in ("benchmark_dataset_ids", "research_dataset_ids")
    )
    config = block_type.parse_config({})
    assert (config.model, config.provider, config.max_concurrency, config.research_top_k) == (
        "medium",
        None,
        3,
        5,
    )
    doc = document(
        entry("c", "constant", {"config_value": []}),
        entry("v", "legal_variance_determination", {"model": "giant"}),
        connections=[conn("c", "v", "data", "extracted_clauses")],
    )
    assert validate_configuration(doc).error_types() == [
        "invalid_config",
        "missing_required_input",
    ]


async def test_example_05(llm_server: LLMServer) -> None:
    responder = Responder()
    llm_server.handler = responder
    clauses = read_json(DATA / "extracted_clauses.json")
    result = await run_variance(llm_server, clauses, max_concurrency=4)
    assert_completed(result)
    assert result.output is not None
    results = result.output["results"]
    assert isinstance(results, list)
    assert [item["clause_number"] for item in results] == [c["clause_number"] for c in clauses]
    names = {
        clause_key(row["clause_number"]): row["clause_name"]
        for row in read_csv_rows(DATA / "clause_definitions.csv")
    }
    for item in results:
        assert item["clause_name"] == names[clause_key(item["clause_number"])]
        assert item["decision"] in DECISIONS and item["materiality"] in MATERIALITY
        assert isinstance(item["confidence"], float) and 0 <= item["confidence"] <= 1
        assert isinstance(item["drafting_instructions"], list)
        assert item["research_insights"][0]["source_type"] == "Case Law"
    duties = results[0]
    assert duties["clause_number"] == "2"
    assert duties["clause_name"] == "Duties and Responsibilities"
    assert (duties["decision"], duties["materiality"], duties["confidence"]) == (
        "MODIFY",
        "MATERIAL",
        0.83,
    )
    assert duties["drafting_instructions"] == ["Add OHSA safety duties", "Name the supervisor"]
    assert duties["reasoning"] == "Reasoning for clause 2."

    # what the model was given for clause "2": the rows of "002"
    prompt = responder.prompts["2"]
    assert "Clause name: Duties and Responsibilities" in prompt
    assert "Comprehensive description of job functions" in prompt  # definition
    assert "standard_terms: Comprehensive list of primary duties" in prompt  # benchmark
    assert "materiality_factors: Omission of safety responsibilities" in prompt  # guidance
    assert "Farber v Royal Trust Constructive Dismissal" in prompt  # research by relevance
    assert prompt.count("\n---\n") >= 1  # and more research rows by similarity
    assert "Mobility assistance with transferring" in prompt  # the excerpts
    assert all(GENERAL in system and TRANSACTION in system for system in responder.systems)

    assert len(llm_server.requests) == len(clauses)
    assert llm_server.max_in_flight <= 4
    assert result.progress_data["llm_usage"]["calls"] == len(clauses)
    progress = result.progress_data["blocks"]["variance"]
    assert progress["items_total"] == progress["items_completed"] == len(clauses)


async def test_clause_without_definition_and_an_override(llm_server: LLMServer) -> None:
    responder = Responder()
    llm_server.handler = responder
    clauses = [
        {"clause_number": "99", "excerpts": [{"text": "Odd clause.", "section": "9"}]},
        {"clause_number": 4, "excerpts": []},
    ]
    result = await run_variance(llm_server, clauses, research_top_k=0)
    assert_completed(result)
    assert result.output is not None
    missing, wages = result.output["results"]
    assert missing["clause_number"] == "99" and missing["clause_name"] is None
    assert missing["reasoning"].startswith("No definition row was found for clause 99")
    assert "No definition was found for clause 99." in responder.prompts["99"]
    assert wages["clause_number"] == 4 and wages["clause_name"] == "Base Salary/Wages"
    assert "(no excerpts)" in responder.prompts["4"]

    override = "Our own definition of the wage clause."
    result = await run_variance(
        llm_server, [{"clause_number": "004", "excerpts": []}], clause_definition=override
    )
    assert_completed(result)
    assert override in responder.prompts["004"]
    assert "Fixed compensation amount" not in responder.prompts["004"]


@pytest.mark.parametrize(
    "clauses",
    [{"clause_number": "2"}, [{"excerpts": []}], ["2"], [{"clause_number": "2", "excerpts": 5}]],
)
async def test_invalid_extracted_clauses(llm_server: LLMServer, clauses: Any) -> None:
    result = await run_variance(llm_server, clauses)
    assert result.status == "failed"
    assert result.error_type == "invalid_input"
    assert llm_server.requests == []


async def test_invalid_output_fails_naming_the_clause(llm_server: LLMServer) -> None:
    llm_server.script(
        json_reply({"decision": "MAYBE"}), text_reply("I think it is fine."), text_reply("x")
    )
    result = await run_variance(
        llm_server, [{"clause_number": "2", "excerpts": []}], research_top_k=0
    )
    assert result.status == "failed"
    assert result.error_type == "llm_output_invalid"
    assert "clause 2:" in (result.error or "")


async def test_empty_list_needs_no_model(llm_server: LLMServer) -> None:
    result = await run_variance(llm_server, [])
    assert_completed(result)
    assert result.output == {"results": []}
    assert llm_server.requests == []
