"""The agent tools (agents/tools.py, agents/resources.py) over an in-memory host: resource scope,
text of PDFs, text files and datasets, line tools and their bounds, RE2 patterns, sections,
semantic search with the bundled embedding model, the LLM tools through the loopback provider,
argument checks and the per-call timeout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from agent_helpers import MemoryAgentHost, request_text
from ai_helpers import ai_for
from llm_server import LLMServer, json_reply, slow_reply, text_reply

from moderately.agents import tools
from moderately.agents.errors import ToolError
from moderately.agents.llm import AgentLLM, UsageMeter, resolve_roles
from moderately.agents.resources import Resources
from moderately.agents.tools import ToolKit, build_toolbox, call_tool
from moderately.ai import AIServices

pytestmark = pytest.mark.anyio

PDF = Path(__file__).resolve().parents[2] / "examples/data/04-legal-document-extraction"
TIMEOUT = 60.0  # a tool call's time limit here: a hang guard

PARAGRAPHS = {
    "termination": (
        "Termination. Either party may end this employment relationship by giving the other "
        "party thirty days of written notice. The employer may instead pay wages in lieu of "
        "notice. Dismissal for cause requires no notice at all."
    ),
    "vacation": (
        "Vacation. The employee earns two weeks of paid holidays for each year of service, "
        "scheduled by agreement with the manager, and vacation pay of four per cent."
    ),
    "salary": (
        "Remuneration. The employee is paid an hourly wage of nineteen dollars, plus "
        "statutory benefits, every second Friday by direct deposit into a bank account."
    ),
    "confidentiality": (
        "Confidentiality. The employee shall keep secret all information about clients and "
        "business affairs, during and after the employment, and return documents on request."
    ),
}


def document_text() -> str:
    """The paragraphs, each long enough to be a chunk of its own (1000 characters, 2.17)."""
    return "\n\n".join(" ".join([text] * 5) for text in PARAGRAPHS.values())


def kit_for(
    host: MemoryAgentHost,
    ai: AIServices,
    agent_input: dict[str, Any] | None = None,
    tool_config: list[dict[str, Any]] | None = None,
) -> ToolKit:
    resources = Resources(host, ai, agent_input or {}, tool_config or [], lambda: False)
    return ToolKit(host, resources, AgentLLM(ai, resolve_roles(ai, {}), UsageMeter()))


async def call(kit: ToolKit, tool: str, /, timeout: float = TIMEOUT, **arguments: Any) -> str:
    return await call_tool(tools.TOOLS[tool](), kit, arguments, timeout)


async def test_scope_is_the_named_resources_else_the_team(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    first = host.add_file("a.txt", "alpha")
    second = host.add_file("b.txt", "beta")
    rows = host.add_dataset("prices", [{"item": "pen", "price": 2}])
    ai = ai_for(llm_server)

    everything = await call(kit_for(host, ai), "ResourceListTool")
    assert {line.split(" | ")[0] for line in everything.splitlines()} == {first, second, rows}
    named = kit_for(
        host,
        ai,
        {"doc": f"see {first} please"},
        [{"type": "X", "config": {"resource_ids": [rows]}}],
    )
    listed = await call(named, "ResourceListTool")
    assert listed.splitlines() == [
        f"{first} | file | a.txt | 5 bytes, text/plain",
        f"{rows} | dataset | prices | 1 rows",
    ]
    assert (
        await call(named, "ResourceListTool", kind="dataset")
        == f"{rows} | dataset | prices | 1 rows"
    )
    with pytest.raises(ToolError, match="not one of this run's resources"):
        await call(named, "ResourceSampleTool", resource_id=second)


async def test_datasets_read_as_csv(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    rows = [
        {"item": f"item {n}", "price": n * 1.5, "tags": ["a", "b"] if n == 2 else None}
        for n in range(1, 8)
    ]
    dataset = host.add_dataset(
        "prices",
        rows,
        [
            {"name": "item", "type": "string"},
            {"name": "price", "type": "number"},
            {"name": "tags", "type": "json"},
        ],
    )
    kit = kit_for(host, ai_for(llm_server))

    structure = await call(kit, "ResourceStructureTool", resource_id=dataset)
    assert (
        structure
        == "Dataset 'prices': 7 rows. Columns: item (string), price (number), tags (json)."
    )
    sample = await call(kit, "ResourceSampleTool", resource_id=dataset, n=2)
    assert sample.splitlines() == [
        "1: item,price,tags",
        "2: item 1,1.5,",
        '3: item 2,3.0,"[""a"", ""b""]"',
    ]
    found = await call(kit, "ResourceFindLinesTool", resource_id=dataset, text="ITEM 7")
    assert found == "8: item 7,10.5,"


async def test_line_tools_are_bounded(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    long_file = host.add_file("log.txt", "\n".join(f"entry {n} ok" for n in range(1, 1001)))
    kit = kit_for(host, ai_for(llm_server))

    read = (
        await call(kit, "ResourceReadLinesTool", resource_id=long_file, start=10, end=900)
    ).splitlines()
    assert read[0] == "10: entry 10 ok" and read[-2] == "209: entry 209 ok"
    assert read[-1] == "(stopped at line 209: at most 200 lines per call)"
    found = (
        await call(kit, "ResourceFindLinesTool", resource_id=long_file, text="OK")
    ).splitlines()
    assert len(found) == 51 and found[-1] == "(stopped after 50 matches)"
    with pytest.raises(ToolError, match="end \\(3\\) is before start \\(5\\)"):
        await call(kit, "ResourceReadLinesTool", resource_id=long_file, start=5, end=3)
    with pytest.raises(
        ToolError, match="/n: 10000 is greater than the maximum of 50"
    ):  # the schema's maximum
        await call(kit, "ResourceSampleTool", resource_id=long_file, n=10_000)
    wide = host.add_file("wide.txt", "x" * 50_000)
    kit = kit_for(host, ai_for(llm_server))
    shown = await call(kit, "ResourceSampleTool", resource_id=wide, n=1)
    assert len(shown) < 500  # one line is shown cut


async def test_regex_search_runs_on_re2(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    text = host.add_file("t.txt", "a" * 5000 + "!\n" + "order 66 shipped\nnothing")
    kit = kit_for(host, ai_for(llm_server))

    # a pattern that backtracks for ages in Python's re is linear in RE2
    assert await call(kit, "RegexSearchTool", resource_id=text, pattern="(a+)+$") == "No match."
    found = await call(kit, "RegexSearchTool", resource_id=text, pattern=r"order \d+")
    assert found == "2: 'order 66' in: order 66 shipped"
    with pytest.raises(ToolError, match="RE2"):
        await call(kit, "RegexSearchTool", resource_id=text, pattern=r"(?=x)")


async def test_pdf_structure_sections_and_semantic_search(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    pdf = host.add_file(
        "agreement.pdf", (PDF / "employment_agreement.pdf").read_bytes(), "application/pdf"
    )
    kit = kit_for(host, ai_for(llm_server))

    structure = await call(kit, "ResourceStructureTool", resource_id=pdf)
    assert structure.startswith("File 'agreement.pdf', 9 pages, ")
    assert "7. TERMINATION" in structure and "10. VACATION" in structure
    section = await call(kit, "ResourceSectionTool", resource_id=pdf, heading="vacation")
    assert section.startswith("10. VACATION (lines ")
    assert "two weeks'" in section and "11. SICK LEAVE" not in section
    with pytest.raises(ToolError, match=r"no heading matches 'pension'.*7\. TERMINATION"):
        await call(kit, "ResourceSectionTool", resource_id=pdf, heading="pension")
    found = await call(kit, "ResourceSearchTool", query="sick days and illness", top_k=2)
    assert len(found.splitlines()) == 2
    assert "11.1" in found.splitlines()[0] or "sick" in found.splitlines()[0].lower()


async def test_semantic_search_ranks_the_right_passage(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    document = host.add_file("contract.txt", document_text())
    kit = kit_for(host, ai_for(llm_server))

    queries = {
        "termination": "how much notice is needed to end the job",
        "vacation": "paid time off and holidays",
        "salary": "what is the hourly pay",
        "confidentiality": "keeping client information secret",
    }
    for topic, query in queries.items():
        found = (await call(kit, "ResourceSearchTool", query=query, top_k=4)).splitlines()
        assert len(found) == 4
        assert PARAGRAPHS[topic][:40] in found[0], (query, found[0])
        assert f"contract.txt ({document})" in found[0]
        scores = [float(line[1 : line.index("]")]) for line in found]
        assert scores == sorted(scores, reverse=True)


async def test_related_resources(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    holidays = host.add_file("holidays.txt", PARAGRAPHS["vacation"])
    leave = host.add_file(
        "leave.txt", "Annual leave: staff get paid holidays and vacation days each year."
    )
    host.add_file("soup.txt", "Simmer the onions and carrots, add stock and season the soup.")
    kit = kit_for(host, ai_for(llm_server))

    related = (await call(kit, "RelatedResourcesTool", resource_id=holidays)).splitlines()
    assert len(related) == 2 and f"leave.txt ({leave})" in related[0]


async def test_llm_tools_through_the_provider(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    document = host.add_file("contract.txt", document_text())
    kit = kit_for(host, ai_for(llm_server))

    llm_server.script(text_reply("A short summary."))
    assert (
        await call(kit, "SummaryTool", resource_id=document, focus="notice") == "A short summary."
    )
    sent = request_text(llm_server.requests[-1].body)
    assert "thirty days of written notice" in sent and "Also: notice" in sent

    llm_server.script(text_reply("Thirty days (line 1)."))
    answer = await call(
        kit, "ResourceQuestionAnsweringTool", resource_id=document, question="notice?"
    )
    assert answer == "Thirty days (line 1)."
    asked = request_text(llm_server.requests[-1].body)
    assert "[lines 1-1]\nTermination." in asked and "[lines 7-7]\nConfidentiality." in asked

    schema = {"type": "object", "properties": {"days": {"type": "integer"}}, "required": ["days"]}
    llm_server.script(json_reply({"days": 30}))
    extracted = await call(
        kit, "ResourceStructuredExtractionTool", resource_id=document, json_schema=schema
    )
    assert extracted == '{"days": 30}'
    with pytest.raises(ToolError, match="not a usable Draft 7 schema"):
        await call(
            kit, "ResourceStructuredExtractionTool", resource_id=document, json_schema={"type": 5}
        )

    llm_server.script(text_reply("Critique."))
    assert await call(kit, "CriticalAnalysisTool", text="A claim.") == "Critique."
    with pytest.raises(ToolError, match="exactly one of 'text' and 'resource_id'"):
        await call(kit, "DraftWritingTool", text="x", resource_id=document)

    with pytest.raises(ToolError, match="was not found"):
        await call(kit, "AskAgentRunTool", agent_execution_id="other", question="what?")
    host.digests["other"] = {"status": "completed", "agentOutput": {"total": 12}, "steps": []}
    llm_server.script(text_reply("It found 12."))
    assert (
        await call(kit, "AskAgentRunTool", agent_execution_id="other", question="what?")
        == "It found 12."
    )
    assert '"total": 12' in request_text(llm_server.requests[-1].body)
    assert kit.llm.meter.calls == 5


async def test_created_files_and_timeouts(llm_server: LLMServer) -> None:
    host = MemoryAgentHost()
    kit = kit_for(host, ai_for(llm_server))

    created = await call(kit, "ResourceCreationTool", name="notes.md", content="# Notes")
    file_id = kit.created_files[0]
    assert created == f"Created file {file_id} ('notes.md', 7 characters)."
    assert host.created[file_id] == ("notes.md", "# Notes")

    llm_server.script(slow_reply(TIMEOUT * 2))
    with pytest.raises(ToolError, match=r"SummaryTool did not finish within 0\.5 s"):
        await call(kit, "SummaryTool", timeout=0.5, text="something")


async def test_observations_are_cut_and_network_tools_unavailable() -> None:
    long = "y" * 10_000
    cut = tools.truncate(long)
    assert len(cut) == tools.OBSERVATION_CHARS and cut.endswith(
        "[... cut: 10,000 characters in all]"
    )
    offered, unavailable = build_toolbox(
        [
            {"type": "GetDateTool"},
            {"type": "ScrapeWebsiteTool"},
            {"type": "GetDateTool"},
            {"type": "Bogus"},
        ]
    )
    assert [tool.name for tool in offered] == ["GetDateTool"]
    assert unavailable == [("ScrapeWebsiteTool", tools.NETWORK_REASON), ("Bogus", "unknown tool")]
    assert set(tools.TOOLS) | set(tools.NETWORK_TOOLS) == set(SPEC_TOOL_NAMES)


SPEC_TOOL_NAMES = [
    "GetDateTool",
    "ResourceSearchTool",
    "ResourceListTool",
    "ResourceStructureTool",
    "RelatedResourcesTool",
    "ResourceSampleTool",
    "ResourceSectionTool",
    "ResourceFindLinesTool",
    "ResourceReadLinesTool",
    "ResourceSummarizationTool",
    "ResourceQuestionAnsweringTool",
    "ResourceStructuredExtractionTool",
    "ResourceEntitiesExtractionTool",
    "ResourcePrioritizationTool",
    "TavilySearchTool",
    "GenericSearchTool",
    "PatentSearchTool",
    "PubmedSearchTool",
    "ClinicalTrialSearchTool",
    "SummaryTool",
    "CriticalAnalysisTool",
    "DraftWritingTool",
    "WritingFeedbackTool",
    "ResourceGroundedEditorTool",
    "ClassifyEntitiesFromTextTool",
    "RegexSearchTool",
    "ScrapeWebsiteTool",
    "ResourceCreationTool",
    "AskAgentRunTool",
]
