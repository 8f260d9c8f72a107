"""Examples 04 (legal document extraction), 05 (variance analysis) and 06 (dataset chat) of
moderatelyai-sdk, step for step through this SDK against the real server with the examples'
own data (examples/data/), on both server configurations. Written the way the examples are,
with their 0.2.7 imports (``moderatelyai_sdk.models.<entity>``), so old code is shown to run.

The LLM provider is the loopback server of platform/tests/llm_server.py (conftest ``llm``):
each test scripts it where the default answer is not enough, and checks what it was sent.
"""

import csv
import hashlib
import io
import json
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from moderatelyai_sdk import AsyncModeratelyAI, NotFoundError, _io_async
from moderatelyai_sdk.models.dataset_async import DatasetAsyncModel
from moderatelyai_sdk.models.file_async import FileAsyncModel
from moderatelyai_sdk.models.pipeline_async import PipelineAsyncModel
from moderatelyai_sdk.models.pipeline_configuration_version_async import (
    PipelineConfigurationVersionAsyncModel,
)

from ..example_llm import (
    CHAT,
    FOUND_BY_KEYWORD,
    INVENTED,
    LEGAL,
    VARIANCE,
    ExtractionResponder,
    VarianceResponder,
    asks_for,
    clause_asked,
    clause_named,
    full_text,
    read_csv,
    replies,
    squeeze,
    system_text,
    turns,
)
from .test_pipelines import connect

pytestmark = pytest.mark.anyio

POLL = 0.2  # the examples poll every 2 s (executions) and 5 s (processing); tests needn't wait
PROCESSING_WAIT = 60.0  # as long as the examples wait for processing


def stamp(name: str) -> str:
    """The examples name resources with a timestamp; the tag keeps parallel runs apart."""
    return f"{name} {int(time.time())} {uuid.uuid4().hex[:6]}"


async def create_dataset_from_csv(
    client: AsyncModeratelyAI, csv_path: Path, name: str, description: str
) -> DatasetAsyncModel:
    """The examples' dataset setup: data, schema from the sample, processing, polling."""
    dataset = await client.datasets.create(name=stamp(name), description=description)
    data_version = await dataset.upload_data(file=csv_path, file_type="csv", status="current")
    schema = await dataset.create_schema_from_sample(
        sample_file=csv_path, status="current", header_row=1
    )
    assert data_version.dataset_data_version_id and schema.dataset_schema_version_id
    await dataset.update(should_process=True)

    deadline = time.monotonic() + PROCESSING_WAIT
    while True:
        refreshed = await client.datasets.retrieve(dataset.dataset_id)
        if refreshed.processing_status == "completed":
            break
        assert refreshed.processing_status != "failed", refreshed.processing_error
        assert time.monotonic() < deadline, f"{name}: still {refreshed.processing_status}"
        await _io_async.sleep(POLL)
    assert refreshed.record_count == len(read_csv(csv_path))
    return dataset


async def create_pipeline(
    client: AsyncModeratelyAI, name: str, description: str, configuration: Dict[str, Any]
) -> Tuple[PipelineAsyncModel, PipelineConfigurationVersionAsyncModel]:
    pipeline = await client.pipelines.create(name=stamp(name), description=description)
    version = await pipeline.create_configuration_version(
        configuration=configuration, status="current"
    )
    assert version.is_current
    return pipeline, version


def connection(source: str, source_port: str, target: str, target_port: str) -> Dict[str, str]:
    return {
        "source_block_id": source,
        "source_port": source_port,
        "target_block_id": target,
        "target_port": target_port,
    }


async def gone(*resources: Any) -> None:
    """The examples' cleanup: delete each, then check that it is gone."""
    for resource in resources:
        await resource.delete()
        with pytest.raises(NotFoundError):
            await resource.refresh()


# --- example 04: legal document extraction ----------------------------------------------------

EXTRACTION_PIPELINE: Dict[str, Any] = {
    "id": "clause_extraction",
    "name": "Clause Extraction",
    "description": "Extract the clauses of a contract PDF per a clause definitions dataset",
    "version": "0.1.0",
    "blocks": {
        "pdf_file_id": {
            "id": "pdf_file_id",
            "type": "input",
            "config": {
                "json_schema": {"type": "string", "format": "file", "description": "The PDF"}
            },
        },
        "clause_definitions_dataset_id": {
            "id": "clause_definitions_dataset_id",
            "type": "input",
            "config": {
                "json_schema": {
                    "type": "string",
                    "format": "dataset",
                    "description": "Clause definitions",
                }
            },
        },
        "context_dataset_id": {
            "id": "context_dataset_id",
            "type": "input",
            "config": {"json_schema": {"type": "string", "description": "Legal context"}},
        },
        "clause_extraction_agent": {
            "id": "clause_extraction_agent",
            "type": "clause_extraction_agent",
            "config": {
                "instructions": "Extract every clause of the document that the clause "
                "definitions dataset defines.",
            },
        },
        "clause_analysis_results": {
            "id": "clause_analysis_results",
            "type": "output",
            "config": {"name": "clause_analysis_results"},
        },
    },
    "connections": [
        connection("pdf_file_id", "data", "clause_extraction_agent", "file_id"),
        connection(
            "clause_definitions_dataset_id", "data", "clause_extraction_agent", "dataset_id"
        ),
        connection("context_dataset_id", "data", "clause_extraction_agent", "context_dataset_id"),
        connection("clause_extraction_agent", "results", "clause_analysis_results", "data"),
    ],
}
NOT_FOUND = "Not found in the document"


def merge_excerpts(excerpts: List[Dict[str, str]]) -> str:
    """Example 04's report cell: ``<section>: <text>`` per excerpt, blank lines between."""
    parts = [f"{e.get('section', 'Unknown')}: {e.get('text', '').strip()}" for e in excerpts]
    return "\n\n".join(part for part in parts if not part.endswith(": "))


def extraction_report(definitions: List[Dict[str, str]], results: Dict[str, Any]) -> str:
    """The example's CSV: one line per defined clause, its excerpts and reasoning, or not
    found."""
    by_number = {clause["clause_number"]: clause for clause in results["standard_clauses"]}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["clause_number", "clause_name", "extracted_text", "reasoning"])
    for row in definitions:
        clause = by_number.get(row["clause_number"])
        if clause is None:
            writer.writerow([row["clause_number"], row["clause_name"], NOT_FOUND, ""])
        else:
            excerpts = merge_excerpts(clause.get("excerpts", []))
            reasoning = clause.get("reasoning", "")
            writer.writerow([row["clause_number"], row["clause_name"], excerpts, reasoning])
    return out.getvalue()


async def test_example_04_legal_document_extraction(fresh: Any, llm: Any, tmp_path: Path) -> None:
    pdfminer = pytest.importorskip("pdfminer.high_level", reason="platform package missing")
    pdf_path = LEGAL / "employment_agreement.pdf"
    document = pdfminer.extract_text(str(pdf_path))
    definitions = read_csv(LEGAL / "clause_definitions.csv")
    responder = ExtractionResponder(document)
    llm.handler = responder

    async with connect(fresh) as client:
        # The file: looked up by its SHA-256 first, uploaded when the team has none.
        file_hash = hashlib.sha256(pdf_path.read_bytes()).hexdigest()
        assert (await client.files.list(file_hashes=file_hash))["items"] == []
        file_model = await client.files.upload(file=pdf_path, name=pdf_path.name)
        assert isinstance(file_model, FileAsyncModel)
        existing = (await client.files.list(file_hashes=file_hash))["items"]
        assert [f.file_id for f in existing] == [file_model.file_id]

        clause_definitions = await create_dataset_from_csv(
            client, LEGAL / "clause_definitions.csv", "Clause Definitions", "Clause definitions"
        )
        context = await create_dataset_from_csv(
            client, LEGAL / "context.csv", "Legal Context", "Context for legal processing"
        )
        pipeline, version = await create_pipeline(
            client, "Clause Extraction Pipeline", "Legal document analysis", EXTRACTION_PIPELINE
        )
        try:
            execution = await version.execute(
                pipeline_input={
                    "pdf_file_id": file_model.file_id,
                    "clause_definitions_dataset_id": clause_definitions.dataset_id,
                    "context_dataset_id": context.dataset_id,
                },
                pipeline_input_summary=f"Extract clauses from {file_model.name}",
                block=True,
                timeout=300,
                show_progress=True,
                poll_interval=POLL,
            )
            assert execution.status == "completed"
            output = await execution.get_output()
            saved = tmp_path / "extraction_results.json"
            saved.write_text(json.dumps(output, indent=2, ensure_ascii=False), encoding="utf-8")
            assert json.loads(saved.read_text(encoding="utf-8")) == output

            results = output["clause_analysis_results"]
            clauses = results["standard_clauses"]
            # Found: the clauses the model quoted the contract for, in definitions order; the
            # made-up excerpts are gone (022 had nothing else, so it is not found).
            quoted = {n for n, a in responder.answers.items() if n not in INVENTED and a["found"]}
            assert quoted == set(FOUND_BY_KEYWORD), responder.answers
            assert [c["clause_number"] for c in clauses] == sorted(FOUND_BY_KEYWORD)
            assert results["clauses_not_found"] == [
                row["clause_number"]
                for row in definitions
                if row["clause_number"] not in FOUND_BY_KEYWORD
            ]
            names = {row["clause_number"]: row["clause_name"] for row in definitions}
            for clause in clauses:
                number = clause["clause_number"]
                assert clause["clause_name"] == names[number]
                assert clause["reasoning"] == responder.answers[number]["reasoning"]
                (excerpt,) = clause["excerpts"]  # 004's paraphrase was dropped
                assert set(excerpt) == {"section", "text"} and excerpt["section"]
                assert squeeze(excerpt["text"]) == responder.answers[number]["excerpts"][0]["text"]
                assert squeeze(excerpt["text"]) in squeeze(document)

            # The provider: one search request per clause, then one extraction request per
            # clause with candidates, each with the instructions, the context dataset and the
            # definition it is about.
            searches = [r for r in llm.requests if asks_for(r, "queries")]
            extractions = [r for r in llm.requests if asks_for(r, "found", "excerpts")]
            assert len(searches) + len(extractions) == len(llm.requests)
            assert sorted(clause_named(r) for r in searches) == sorted(names.values())
            assert {*FOUND_BY_KEYWORD, *INVENTED} <= {clause_asked(r) for r in extractions}
            context_rows = read_csv(LEGAL / "context.csv")
            for request in extractions:
                system = system_text(request)
                assert "Extract every clause of the document" in system
                assert all(row["url"] in system for row in context_rows)
                assert names[clause_asked(request)] in full_text(request)

            # The example's CSV report: every defined clause, found ones with their excerpts.
            report = list(csv.reader(io.StringIO(extraction_report(definitions, results))))
            assert len(report) == 1 + len(definitions)
            rows = {line[0]: line for line in report[1:]}
            for clause in clauses:
                excerpt = clause["excerpts"][0]
                assert rows[clause["clause_number"]][2:] == [
                    f"{excerpt['section']}: {excerpt['text'].strip()}",
                    clause["reasoning"],
                ]
            assert rows["022"][2] == rows["001"][2] == NOT_FOUND
        finally:
            await gone(file_model, clause_definitions, context, pipeline)


# --- example 05: variance analysis --------------------------------------------------------------

GENERAL_INSTRUCTIONS = """You are reviewing employment contracts governed by Ontario law: the
Employment Standards Act, 2000 (ESA), the Occupational Health and Safety Act and the common law
of reasonable notice.

PRIORITIES
1. Statutory minimums (FUNDAMENTAL): wages, hours and overtime, vacation, termination notice
   and pay. A term below an ESA minimum must be modified.
2. Common law (MATERIAL): reasonable notice, enforceable termination language, constructive
   dismissal risks.
3. Health and safety (MATERIAL): explicit OHSA duties, care for vulnerable clients.
4. Industry practice (NOTABLE): privacy of personal health information, clear duties.

MATERIALITY
- FUNDAMENTAL: below a statutory minimum, or a missing status the statute depends on.
- MATERIAL: a gap a court would read against the employer.
- NOTABLE: unclear drafting worth flagging.
- DE_MINIMIS: wording that differs from the benchmark without effect.

DECISIONS
- ACCEPT: minimums met and obligations clear.
- MODIFY: a statutory or common-law gap, or a fundamental ambiguity; when unsure, MODIFY.
"""
TRANSACTION_CONTEXT = (
    "Employment agreement for an attendant care worker in Ontario, Canada, hired by a small "
    "employer (fewer than 5 employees) for personal care of a person with a disability."
)
CLAUSE_SCHEMA: Dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["clause_number", "excerpts"],
        "properties": {
            "clause_number": {"type": "string"},
            "excerpts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["text", "section"],
                    "properties": {"text": {"type": "string"}, "section": {"type": "string"}},
                },
            },
        },
    },
}


def dataset_input(description: str, *, many: bool = False) -> Dict[str, Any]:
    reference = {"type": "string", "format": "dataset"}
    if many:
        return {"json_schema": {"type": "array", "items": reference, "description": description}}
    return {"json_schema": {**reference, "description": description}}


VARIANCE_PIPELINE: Dict[str, Any] = {
    "id": "variance_analysis",
    "name": "Variance Analysis",
    "description": "Variances of employment contract clauses from benchmark terms",
    "version": "1.0.0",
    "blocks": {
        "input_extracted_clauses": {
            "id": "input_extracted_clauses",
            "name": "Extracted Clause Data",
            "type": "input",
            "config": {"json_schema": CLAUSE_SCHEMA},
        },
        "input_clause_definitions": {
            "id": "input_clause_definitions",
            "type": "input",
            "config": dataset_input("Clause definitions dataset"),
        },
        "input_benchmark_clauses": {
            "id": "input_benchmark_clauses",
            "type": "input",
            "config": dataset_input("Benchmark clause datasets", many=True),
        },
        "input_research_materials": {
            "id": "input_research_materials",
            "name": "Research Datasets",
            "type": "input",
            "config": dataset_input("Research for semantic search", many=True),
        },
        "input_clause_variance_guidance": {
            "id": "input_clause_variance_guidance",
            "name": "Clause Variance Guidance",
            "type": "input",
            "config": dataset_input("Variance guidance by clause number"),
        },
        "variance_determination": {
            "id": "variance_determination",
            "type": "legal_variance_determination",
            "config": {
                "general_instructions": GENERAL_INSTRUCTIONS,
                "clause_definition": "",
                "transaction_context": TRANSACTION_CONTEXT,
            },
        },
        "output_variance_results": {
            "id": "output_variance_results",
            "type": "output",
            "config": {"name": "variance_results"},
        },
    },
    "connections": [
        connection(source, "data", "variance_determination", port)
        for source, port in (
            ("input_extracted_clauses", "extracted_clauses"),
            ("input_clause_definitions", "clause_definition_dataset_id"),
            ("input_benchmark_clauses", "benchmark_dataset_ids"),
            ("input_research_materials", "research_dataset_ids"),
            ("input_clause_variance_guidance", "clause_variance_guidance_dataset_id"),
        )
    ]
    + [connection("variance_determination", "results", "output_variance_results", "data")],
}


def variance_report(variance_results: List[Dict[str, Any]]) -> str:
    """Example 05's CSV: confidence with two decimals, drafting instructions joined by
    ``" | "``, research insights counted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "clause_number",
            "decision",
            "confidence",
            "reasoning",
            "drafting_instructions",
            "research_question_count",
        ]
    )
    for result in variance_results:
        instructions = result.get("drafting_instructions", [])
        insights = result.get("research_insights", [])
        writer.writerow(
            [
                result.get("clause_number", ""),
                result.get("decision", ""),
                f"{result.get('confidence', 0.0):.2f}",
                result.get("reasoning", ""),
                " | ".join(instructions) if isinstance(instructions, list) else str(instructions),
                len(insights) if isinstance(insights, list) else 0,
            ]
        )
    return out.getvalue()


async def test_example_05_variance_analysis(fresh: Any, llm: Any, tmp_path: Path) -> None:
    tiers = pytest.importorskip("moderately.ai.tiers", reason="platform package missing")
    responder = VarianceResponder()
    llm.handler = responder
    extracted = json.loads((VARIANCE / "extracted_clauses.json").read_text(encoding="utf-8"))

    async with connect(fresh) as client:
        datasets = [
            await create_dataset_from_csv(client, VARIANCE / f"{stem}.csv", title, description)
            for stem, title, description in (
                ("clause_definitions", "Clause Definitions", "Clause definitions"),
                ("benchmark_clauses", "Benchmark Clauses", "Standard terms and variations"),
                ("variance_guidance", "Variance Guidance", "Materiality by clause"),
                ("research_materials", "Research Materials", "Statutes, cases and practice"),
            )
        ]
        definitions, benchmarks, guidance, research = datasets
        pipeline, version = await create_pipeline(
            client, "Variance Analysis Pipeline", "Legal variance determination", VARIANCE_PIPELINE
        )
        try:
            execution = await version.execute(
                pipeline_input={
                    "input_extracted_clauses": extracted,
                    "input_clause_definitions": definitions.dataset_id,
                    "input_benchmark_clauses": [benchmarks.dataset_id],
                    "input_research_materials": [research.dataset_id],
                    "input_clause_variance_guidance": guidance.dataset_id,
                },
                pipeline_input_summary="Variance analysis on employment agreement clauses",
                block=True,
                timeout=300,
                show_progress=True,
                poll_interval=POLL,
            )
            assert execution.status == "completed"
            output = await execution.get_output()
            saved = tmp_path / "variance_results.json"
            saved.write_text(json.dumps(output, indent=2, ensure_ascii=False), encoding="utf-8")
            assert json.loads(saved.read_text(encoding="utf-8")) == output

            # One result per extracted clause, in input order, under the example's number
            # ("2", not the definitions' "002"), holding what the model answered for it.
            results = output["variance_results"]
            assert [r["clause_number"] for r in results] == [c["clause_number"] for c in extracted]
            names = {
                int(row["clause_number"]): row["clause_name"]
                for row in read_csv(VARIANCE / "clause_definitions.csv")
            }
            for result in results:
                answer = responder.answers[result["clause_number"]]
                assert result["clause_name"] == names[int(result["clause_number"])]
                for key in ("decision", "materiality", "confidence", "reasoning"):
                    assert result[key] == answer[key]
                assert result["drafting_instructions"] == answer["drafting_instructions"]
                assert result["research_insights"] == answer["research_insights"]

            # The example's report.
            report = list(csv.reader(io.StringIO(variance_report(results))))
            assert len(report) == 1 + len(extracted)
            rows = {line[0]: line[1:] for line in report[1:]}
            assert rows["2"] == ["ACCEPT", "0.52", responder.answers["2"]["reasoning"], "", "2"]
            assert rows["12"] == [
                "MODIFY",
                "0.59",
                responder.answers["12"]["reasoning"],
                "State the ESA minimum for clause 12 | Name the governing statute",
                "0",
            ]

            # The provider: one call per clause, to the default provider's medium model, with
            # the framework, the transaction, and the clause's own rows and excerpts.
            assert len(llm.requests) == len(extracted)
            by_clause = {clause_asked(r): r for r in llm.requests}
            assert set(by_clause) == {c["clause_number"] for c in extracted}
            request = by_clause["2"]
            assert request.protocol == "openai"
            assert request.body["model"] == tiers.BUILTIN_TIERS["openai"]["medium"]
            seen = squeeze(full_text(request))
            assert squeeze(GENERAL_INSTRUCTIONS) in squeeze(system_text(request))
            assert TRANSACTION_CONTEXT in system_text(request)
            wanted = [
                row["standard_terms"]
                for row in read_csv(VARIANCE / "benchmark_clauses.csv")
                if row["clause_number"] == "002"
            ]
            wanted += [
                row["materiality_factors"]
                for row in read_csv(VARIANCE / "variance_guidance.csv")
                if row["clause_number"] == "002"
            ]
            relevant = [
                row
                for row in read_csv(VARIANCE / "research_materials.csv")
                if row["relevance"] == names[2]
            ]
            assert relevant  # the example data names clause 2 in its research
            wanted += [row["content"] for row in relevant]
            wanted += [e["text"] for e in extracted[0]["excerpts"]]
            assert len(wanted) > 3
            for text in wanted:
                assert squeeze(text) in seen, text[:80]
        finally:
            await gone(*datasets, pipeline)


# --- example 06: dataset chat -------------------------------------------------------------------

CHAT_PIPELINE: Dict[str, Any] = {
    "id": "dataset_chat",
    "name": "Dataset Chat",
    "description": "Chat with an LLM that has the context datasets in view",
    "version": "1.0.0",
    "blocks": {
        "context_datasets": {
            "id": "context_datasets",
            "type": "input",
            "config": {
                "json_schema": {
                    "type": "array",
                    "items": {"type": "string", "format": "dataset"},
                    "description": "Datasets the assistant may draw on",
                }
            },
        },
        "user_input": {
            "id": "user_input",
            "type": "input",
            "config": {
                "json_schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["role", "content"],
                        "properties": {
                            "role": {"type": "string"},
                            "content": {"type": "string"},
                        },
                    },
                }
            },
        },
        "llm": {"id": "llm", "type": "llm", "config": {"provider": "anthropic", "model": "medium"}},
        "output": {"id": "output", "type": "output", "config": {"name": "output"}},
    },
    "connections": [
        connection("context_datasets", "data", "llm", "datasets"),
        connection("user_input", "data", "llm", "messages"),
        connection("llm", "response", "output", "data"),
    ],
}

# What the user types at the example's prompt, and what the model answers each time.
CHAT_TURNS = [
    ("Which statute governs termination notice?", "Part XV of the ESA 2000 does."),
    ("And where are leaves of absence covered?", "Part XIV covers every kind of leave."),
    ("Give me the link for the non-compete ban.", "Section 67.2: see the ESA's BK98 anchor."),
]


async def test_example_06_dataset_chat(fresh: Any, llm: Any) -> None:
    tiers = pytest.importorskip("moderately.ai.tiers", reason="platform package missing")
    context_rows = read_csv(CHAT / "context.csv")
    async with connect(fresh) as client:
        context = await create_dataset_from_csv(
            client, CHAT / "context.csv", "Chat Context", "Legal references for the chat"
        )
        pipeline, version = await create_pipeline(
            client, "Dataset Chat", "Chat over a dataset", CHAT_PIPELINE
        )
        try:
            history: List[Dict[str, str]] = []
            for question, answer in CHAT_TURNS:
                llm.script(replies().text_reply(answer))
                history.append({"role": "user", "content": question})
                execution = await version.execute(
                    pipeline_input={
                        "context_datasets": [context.dataset_id],
                        "user_input": history,
                    },
                    block=True,
                    timeout=300,
                    poll_interval=POLL,
                )
                output = await execution.get_output()
                assert output == {"output": answer}
                reply = output["output"]
                assert isinstance(reply, str)  # it becomes the next message's content
                history.append({"role": "assistant", "content": reply})

                # One call per turn, to the medium anthropic model, with the whole history so
                # far and every row of the context dataset in the system text.
                request = llm.requests[-1]
                assert request.protocol == "anthropic"
                assert request.body["model"] == tiers.BUILTIN_TIERS["anthropic"]["medium"]
                assert turns(request) == [(m["role"], m["content"]) for m in history[:-1]]
                system = system_text(request)
                for row in context_rows:
                    assert row["url"] in system and row["section"] in system
            assert len(llm.requests) == len(CHAT_TURNS)
        finally:
            await gone(context, pipeline)
