"""The AI blocks end to end over real HTTP, in the server's worker processes, against the loopback
LLM provider (tests/llm_server.py): the example workflows (clause
extraction), 4.4 (variance analysis) and 4.5 (dataset chat) with their example data, uploaded
through the files and datasets APIs. On SQLite + local store and PostgreSQL + S3."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from datasets_helpers import create_dataset, create_schema, upload_data
from files_helpers import Member, member, upload
from live_servers import CONFIGURATIONS, start_live_server
from llm_server import (
    LLMServer,
    Reply,
    default_reply,
    json_reply,
    last_user_text,
    llm_settings,
    shared_llm_server,
)
from pipelines_helpers import graph, start_configuration, wait_terminal

from moderately.testing import RunningServer

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
# A worker process starts, loads the embedding model and makes ~100 loopback calls: generous.
RUN_TIMEOUT = 180.0
WAGE = (
    "The Employer shall remunerate the Employee for his/her services under this Agreement "
    "at the starting wage of $ 19.00 per hour plus statutory benefits."
)


@pytest.fixture(scope="module", params=CONFIGURATIONS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A live server whose worker processes reach every provider at the loopback server."""
    options = {**llm_settings(shared_llm_server()), "llm_retry_base_seconds": 0, "workers": 2}
    with start_live_server(request, tmp_path_factory, "ai-live", prefix="ai", **options) as running:
        yield running


@pytest.fixture
async def alice(server: RunningServer) -> AsyncIterator[Member]:
    async with member(server) as who:
        yield who


async def csv_dataset(who: Member, path: Path) -> str:
    """A dataset with the CSV as its current data and every column a string."""
    data = path.read_bytes()
    header = next(csv.reader(io.StringIO(data.decode("utf-8"))))
    dataset = await create_dataset(who, f"{path.parent.name}/{path.stem}")
    dataset_id: str = dataset["datasetId"]
    await upload_data(who, dataset_id, data)
    await create_schema(who, dataset_id, [{"name": name, "type": "string"} for name in header])
    return dataset_id


async def run(who: Member, configuration: dict[str, Any], pipeline_input: Any, name: str) -> Any:
    execution_id = await start_configuration(who.client, configuration, pipeline_input, name)
    done = await wait_terminal(who.client, execution_id, timeout=RUN_TIMEOUT)
    assert done["status"] == "completed", done["progressData"]
    return done


def dataset_input() -> tuple[str, dict[str, Any]]:
    return ("input", {"json_schema": {"type": "string", "format": "dataset"}})


def datasets_input() -> tuple[str, dict[str, Any]]:
    return (
        "input",
        {"json_schema": {"type": "array", "items": {"type": "string", "format": "dataset"}}},
    )


async def test_dataset_chat(alice: Member, llm_server: LLMServer) -> None:
    """A chat turn: history in, the reply text out, the dataset as context."""
    context_id = await csv_dataset(alice, EXAMPLES / "06-dataset-chat" / "context.csv")
    configuration = graph(
        {
            "context_datasets": datasets_input(),
            "user_input": (
                "input",
                {
                    "json_schema": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "role": {"type": "string"},
                                "content": {"type": "string"},
                            },
                            "required": ["role", "content"],
                        },
                    }
                },
            ),
            "llm": ("llm", {"provider": "anthropic", "model": "medium"}),
            "output": ("output", {"name": "output"}),
        },
        [
            ("context_datasets", "data", "llm", "datasets"),
            ("user_input", "data", "llm", "messages"),
            ("llm", "response", "output", "data"),
        ],
    )
    history = [
        {"role": "user", "content": "Which statute covers termination?"},
        {"role": "assistant", "content": "The ESA, Part XV."},
        {"role": "user", "content": "And vacation?"},
    ]
    done = await run(
        alice, configuration, {"context_datasets": [context_id], "user_input": history}, "chat"
    )
    assert done["pipelineOutput"] == {"output": "Reply to: And vacation?"}
    assert done["progressData"]["llm_usage"]["calls"] == 1
    (request,) = llm_server.requests
    assert request.protocol == "anthropic"
    system = request.body["system"]
    system = system if isinstance(system, str) else "".join(part["text"] for part in system)
    assert "Part XI - Vacation With Pay" in system  # a row of the dataset, as CSV


async def test_clause_extraction(alice: Member, llm_server: LLMServer) -> None:
    """Clause extraction: the PDF and two datasets through the APIs, the agent in a worker."""
    data = EXAMPLES / "04-legal-document-extraction"
    pdf = await upload(
        alice,
        (data / "employment_agreement.pdf").read_bytes(),
        fileName="employment_agreement.pdf",
        mimeType="application/pdf",
    )
    definitions_id = await csv_dataset(alice, data / "clause_definitions.csv")
    context_id = await csv_dataset(alice, data / "context.csv")

    def answer(protocol: Any, body: dict[str, Any]) -> Reply:
        schema = body.get("response_format", {}).get("json_schema", {}).get("schema", {})
        if "found" not in schema.get("properties", {}):
            return default_reply(protocol, body)
        if "Clause number: 004" in last_user_text(protocol, body):
            excerpts = [{"section": "3", "text": WAGE}, {"section": "3", "text": "Invented."}]
            return json_reply({"found": True, "excerpts": excerpts, "reasoning": "3.1"})
        return json_reply({"found": False, "excerpts": [], "reasoning": "absent"})

    llm_server.handler = answer
    configuration = graph(
        {
            "pdf_file_id": ("input", {"json_schema": {"type": "string", "format": "file"}}),
            "clause_definitions_dataset_id": dataset_input(),
            "context_dataset_id": ("input", {"json_schema": {"type": "string"}}),
            "clause_extraction_agent": (
                "clause_extraction_agent",
                {"instructions": "Extract all clauses following the clause definitions dataset."},
            ),
            "clause_analysis_results": ("output", {"name": "clause_analysis_results"}),
        },
        [
            ("pdf_file_id", "data", "clause_extraction_agent", "file_id"),
            ("clause_definitions_dataset_id", "data", "clause_extraction_agent", "dataset_id"),
            ("context_dataset_id", "data", "clause_extraction_agent", "context_dataset_id"),
            ("clause_extraction_agent", "results", "clause_analysis_results", "data"),
        ],
    )
    done = await run(
        alice,
        configuration,
        {
            "pdf_file_id": pdf["fileId"],
            "clause_definitions_dataset_id": definitions_id,
            "context_dataset_id": context_id,
        },
        "clauses",
    )
    results = done["pipelineOutput"]["clause_analysis_results"]
    (wage,) = results["standard_clauses"]
    assert wage["clause_number"] == "004" and wage["clause_name"] == "Base Salary/Wages"
    assert [" ".join(excerpt["text"].split()) for excerpt in wage["excerpts"]] == [WAGE]
    assert wage["excerpts"][0]["section"] == "3. REMUNERATION"
    assert len(results["clauses_not_found"]) == 49
    progress = done["progressData"]["blocks"]["clause_extraction_agent"]
    assert progress["phase"] == "extracting"
    assert progress["items_total"] == progress["items_completed"] == 50
    assert any("clause 004" in warning for warning in done["progressData"]["warnings"])


async def test_variance_analysis(alice: Member, llm_server: LLMServer) -> None:
    """Variance: four datasets, the extracted clauses as pipeline input."""
    import json

    data = EXAMPLES / "05-variance-analysis"
    ids = {
        name: await csv_dataset(alice, data / f"{name}.csv")
        for name in ("clause_definitions", "benchmark_clauses", "research_materials")
    }
    ids["variance_guidance"] = await csv_dataset(alice, data / "variance_guidance.csv")
    clauses = json.loads((data / "extracted_clauses.json").read_text(encoding="utf-8"))
    seen: list[str] = []

    def answer(protocol: Any, body: dict[str, Any]) -> Reply:
        match = re.match(r"Clause number: (\S+)", last_user_text(protocol, body))
        seen.append(match.group(1) if match else "?")
        return default_reply(protocol, body)

    llm_server.handler = answer
    excerpt = {
        "type": "object",
        "properties": {"text": {"type": "string"}, "section": {"type": "string"}},
        "required": ["text", "section"],
    }
    configuration = graph(
        {
            "input_extracted_clauses": (
                "input",
                {
                    "json_schema": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "clause_number": {"type": "string"},
                                "excerpts": {"type": "array", "items": excerpt},
                            },
                            "required": ["clause_number", "excerpts"],
                        },
                    }
                },
            ),
            "input_clause_definitions": dataset_input(),
            "input_benchmark_clauses": datasets_input(),
            "input_research_materials": datasets_input(),
            "input_clause_variance_guidance": dataset_input(),
            "variance_determination": (
                "legal_variance_determination",
                {
                    "general_instructions": "Assess under Ontario employment law.",
                    "clause_definition": "",
                    "transaction_context": "A personal attendant's employment.",
                },
            ),
            "output_variance_results": ("output", {"name": "variance_results"}),
        },
        [
            ("input_extracted_clauses", "data", "variance_determination", "extracted_clauses"),
            (
                "input_clause_definitions",
                "data",
                "variance_determination",
                "clause_definition_dataset_id",
            ),
            ("input_benchmark_clauses", "data", "variance_determination", "benchmark_dataset_ids"),
            ("input_research_materials", "data", "variance_determination", "research_dataset_ids"),
            (
                "input_clause_variance_guidance",
                "data",
                "variance_determination",
                "clause_variance_guidance_dataset_id",
            ),
            ("variance_determination", "results", "output_variance_results", "data"),
        ],
    )
    done = await run(
        alice,
        configuration,
        {
            "input_extracted_clauses": clauses,
            "input_clause_definitions": ids["clause_definitions"],
            "input_benchmark_clauses": [ids["benchmark_clauses"]],
            "input_research_materials": [ids["research_materials"]],
            "input_clause_variance_guidance": ids["variance_guidance"],
        },
        "variance",
    )
    results = done["pipelineOutput"]["variance_results"]
    assert [item["clause_number"] for item in results] == [c["clause_number"] for c in clauses]
    assert sorted(seen) == sorted(c["clause_number"] for c in clauses)
    assert results[0]["clause_name"] == "Duties and Responsibilities"  # "2" matched "002"
    for item in results:
        assert isinstance(item["confidence"], int | float) and 0 <= item["confidence"] <= 1
        assert item["decision"] in ("ACCEPT", "MODIFY")
        assert all(isinstance(line, str) for line in item["drafting_instructions"])
    assert done["progressData"]["llm_usage"]["calls"] == len(clauses)
