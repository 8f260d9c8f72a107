"""The agent tools (docs/agents.md, Tools): what each does, its arguments, its bounds.

A tool is an `AgentTool`: a name, a description, a JSON Schema of its arguments (checked with
Draft 7 before the tool runs; a mismatch is an observation) and `run`, a coroutine returning the
observation text. `call_tool` adds the checks, the per-call timeout, error-to-observation and
truncation. The tools that need outside network access are never offered: `build_toolbox`
names them as unavailable.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from ..ai.types import AIError, Message
from ..engine.errors import internal_error_text
from ..engine.jsonschemas import describe_problems, schema_problems, validator_for
from ..engine.patterns import PatternError, compile_pattern
from .errors import RunFailure, ToolError
from .host import AgentHost, ResourceInfo
from .llm import AgentLLM
from .resources import Chunk, Resources, ResourceText

OBSERVATION_CHARS: Final = 4000  # an observation longer than this is cut
LINE_CHARS: Final = 400  # characters shown of one line
MAX_READ_LINES: Final = 200
MAX_MATCHES: Final = 50
MAX_SAMPLE: Final = 50
MAX_TOP_K: Final = 20
MAX_SEARCH_RESOURCES: Final = 20  # resources one semantic search looks through
MAX_LISTED: Final = 100
MAX_HEADINGS: Final = 60
LLM_INPUT_CHARS: Final = 60_000  # resource text sent to a tool's LLM call
QA_PASSAGES: Final = 6
REPLY_TOKENS: Final = 2048  # an LLM tool's answer
MAX_CREATED_CHARS: Final = 1_000_000
MAX_TEXT_ARGUMENT: Final = 100_000

NETWORK_TOOLS: Final = (
    "TavilySearchTool",
    "GenericSearchTool",
    "PatentSearchTool",
    "PubmedSearchTool",
    "ClinicalTrialSearchTool",
    "ScrapeWebsiteTool",
)
NETWORK_REASON: Final = "needs outside network access and keys, which this server does not offer"

log = logging.getLogger("moderately.agents")


def truncate(text: str, limit: int = OBSERVATION_CHARS) -> str:
    if len(text) <= limit:
        return text
    note = f"\n[... cut: {len(text):,} characters in all]"
    return text[: limit - len(note)] + note


def _short(line: str) -> str:
    return line if len(line) <= LINE_CHARS else line[:LINE_CHARS] + " [...]"


def _object(properties: dict[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


RESOURCE_ID: Final = {"type": "string", "minLength": 1, "maxLength": 64, "description": "id"}
TOP_K: Final = {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K, "default": 5}


@dataclass
class ToolKit:
    """What tools use: the run's resources, its LLM roles, its host, the files it created."""

    host: AgentHost
    resources: Resources
    llm: AgentLLM
    created_files: list[str] = field(default_factory=list)


class AgentTool:
    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[dict[str, Any]] = _object({})

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        raise NotImplementedError


async def call_tool(tool: AgentTool, kit: ToolKit, arguments: Any, timeout: float) -> str:
    """The observation of one call: the tool's text, or raises `ToolError` naming what went
    wrong (invalid arguments, a failure, the timeout)."""
    if not isinstance(arguments, dict):
        raise ToolError(f"the arguments of {tool.name} must be a JSON object")
    problems = validator_for(tool.parameters).problems(arguments)
    if problems:
        raise ToolError(f"invalid arguments for {tool.name}: {describe_problems(problems)}")
    try:
        async with asyncio.timeout(timeout):
            text = await tool.run(kit, arguments)
    except TimeoutError:
        raise ToolError(f"{tool.name} did not finish within {timeout:g} s") from None
    except AIError as exc:
        raise ToolError(f"{tool.name} failed ({exc.error_type}): {exc.message}") from None
    except (ToolError, RunFailure):
        raise
    except Exception as exc:  # a bug or an outage below the tool: its text stays in the log
        log.error("tool %s raised", tool.name, exc_info=exc)
        raise ToolError(f"{tool.name} failed: {internal_error_text(exc)}") from None
    return truncate(text.strip() or "(no output)")


# -- plain tools ----------------------------------------------------------------------------


class GetDateTool(AgentTool):
    name = "GetDateTool"
    description = "The current date and time (UTC)."

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        now = datetime.now(UTC)
        return f"{now.strftime('%A')} {now.isoformat(timespec='seconds')}"


class ResourceListTool(AgentTool):
    name = "ResourceListTool"
    description = "List the files and datasets this run may use: id, kind, name, size or row count."
    parameters = _object({"kind": {"type": "string", "enum": ["file", "dataset"]}})

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        kind = args.get("kind")
        found = [info for info in await kit.resources.scope() if kind in (None, info.kind)]
        if not found:
            return "No resources."
        lines = []
        for info in found[:MAX_LISTED]:
            extent = (
                f"{info.row_count} rows"
                if info.kind == "dataset"
                else f"{info.size} bytes" + (f", {info.mime_type}" if info.mime_type else "")
            )
            lines.append(f"{info.resource_id} | {info.kind} | {info.name} | {extent}")
        if len(found) > MAX_LISTED:
            lines.append(f"(and {len(found) - MAX_LISTED} more)")
        return "\n".join(lines)


class ResourceStructureTool(AgentTool):
    name = "ResourceStructureTool"
    description = (
        "Structure of a resource: a dataset's columns and row count, or a document's pages, "
        "line count and detected headings (with line numbers)."
    )
    parameters = _object({"resource_id": RESOURCE_ID}, ["resource_id"])

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        loaded = await kit.resources.text(args["resource_id"])
        info = loaded.info
        if info.kind == "dataset":
            columns = ", ".join(
                f"{column.get('name')} ({column.get('type') or 'unknown'})"
                for column in loaded.columns or []
            )
            return f"Dataset '{info.name}': {loaded.row_count} rows. Columns: {columns or 'none'}."
        parts = [f"File '{info.name}'"]
        if loaded.page_count is not None:
            parts.append(f"{loaded.page_count} pages")
        parts.append(f"{loaded.line_count} lines, {len(loaded.text):,} characters")
        lines = [", ".join(parts) + (" (text cut)" if loaded.truncated else "") + "."]
        headings = [s for s in loaded.sections.sections if not s.label.startswith("Page ")]
        if headings:
            lines.append("Headings:")
            lines.extend(
                f"line {loaded.line_at(section.start)}: {section.label}"
                for section in headings[:MAX_HEADINGS]
            )
            if len(headings) > MAX_HEADINGS:
                lines.append(f"(and {len(headings) - MAX_HEADINGS} more)")
        return "\n".join(lines)


def _numbered(loaded: ResourceText, first: int, last: int) -> str:
    return "\n".join(f"{number}: {_short(line)}" for number, line in loaded.lines(first, last))


class ResourceSampleTool(AgentTool):
    name = "ResourceSampleTool"
    description = "The first n rows of a dataset (with its header) or the first n lines of a file."
    parameters = _object(
        {
            "resource_id": RESOURCE_ID,
            "n": {"type": "integer", "minimum": 1, "maximum": MAX_SAMPLE, "default": 5},
        },
        ["resource_id"],
    )

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        loaded = await kit.resources.text(args["resource_id"])
        count = int(args.get("n", 5))
        last = count + 1 if loaded.info.kind == "dataset" else count
        return _numbered(loaded, 1, last) or "(empty)"


class ResourceReadLinesTool(AgentTool):
    name = "ResourceReadLinesTool"
    description = f"Lines start..end of a resource, numbered from 1 (at most {MAX_READ_LINES})."
    parameters = _object(
        {
            "resource_id": RESOURCE_ID,
            "start": {"type": "integer", "minimum": 1},
            "end": {"type": "integer", "minimum": 1},
        },
        ["resource_id", "start", "end"],
    )

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        loaded = await kit.resources.text(args["resource_id"])
        start, end = int(args["start"]), int(args["end"])
        if end < start:
            raise ToolError(f"end ({end}) is before start ({start})")
        if start > loaded.line_count:
            raise ToolError(f"the resource has {loaded.line_count} lines")
        last = min(end, start + MAX_READ_LINES - 1, loaded.line_count)
        text = _numbered(loaded, start, last)
        if last < min(end, loaded.line_count):
            text += f"\n(stopped at line {last}: at most {MAX_READ_LINES} lines per call)"
        return text


class ResourceFindLinesTool(AgentTool):
    name = "ResourceFindLinesTool"
    description = (
        f"Lines of a resource containing a text (case-insensitive), at most {MAX_MATCHES}."
    )
    parameters = _object(
        {"resource_id": RESOURCE_ID, "text": {"type": "string", "minLength": 1, "maxLength": 1000}},
        ["resource_id", "text"],
    )

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        loaded = await kit.resources.text(args["resource_id"])
        wanted = args["text"].casefold()
        found: list[str] = []
        for number, line in loaded.lines(1, loaded.line_count):
            if wanted in line.casefold():
                found.append(f"{number}: {_short(line)}")
                if len(found) >= MAX_MATCHES:
                    found.append(f"(stopped after {MAX_MATCHES} matches)")
                    break
        return "\n".join(found) or "No line contains that text."


class RegexSearchTool(AgentTool):
    name = "RegexSearchTool"
    description = (
        f"Regular-expression matches in a resource with their line numbers (RE2 syntax: no "
        f"backreferences or lookaround), at most {MAX_MATCHES}."
    )
    parameters = _object(
        {"resource_id": RESOURCE_ID, "pattern": {"type": "string", "minLength": 1}},
        ["resource_id", "pattern"],
    )

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        try:
            compiled = compile_pattern(args["pattern"])
        except PatternError as exc:
            raise ToolError(str(exc)) from None
        loaded = await kit.resources.text(args["resource_id"])
        found: list[str] = []
        for number, line in loaded.lines(1, loaded.line_count):
            try:
                match = compiled.search(line)
            except UnicodeEncodeError:  # a lone surrogate: not text RE2 can read
                continue
            if match is not None:
                found.append(f"{number}: {_short(match.group(0))!r} in: {_short(line)}")
                if len(found) >= MAX_MATCHES:
                    found.append(f"(stopped after {MAX_MATCHES} matches)")
                    break
        return "\n".join(found) or "No match."


class ResourceSectionTool(AgentTool):
    name = "ResourceSectionTool"
    description = (
        "Text of the section of a document under a heading (e.g. '5. PERFORMANCE' or "
        "'Schedule A'); ResourceStructureTool lists the headings."
    )
    parameters = _object(
        {
            "resource_id": RESOURCE_ID,
            "heading": {"type": "string", "minLength": 1, "maxLength": 300},
        },
        ["resource_id", "heading"],
    )

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        loaded = await kit.resources.text(args["resource_id"])
        sections = loaded.sections.sections
        wanted = " ".join(args["heading"].split()).casefold()
        chosen = next((s for s in sections if s.label.casefold() == wanted), None)
        if chosen is None:
            chosen = next((s for s in sections if s.label.casefold().startswith(wanted)), None)
        if chosen is None:
            chosen = next((s for s in sections if wanted in s.label.casefold()), None)
        if chosen is None:
            known = "; ".join(s.label for s in sections if not s.label.startswith("Page "))
            raise ToolError(f"no heading matches '{args['heading']}'. Headings: {known[:1500]}")
        first, last = loaded.line_at(chosen.start), loaded.line_at(max(chosen.end - 1, 0))
        body = loaded.text[chosen.start : chosen.end].strip()
        head = f"{chosen.label} (lines {first}-{last})\n"
        limit = OBSERVATION_CHARS - len(head) - 120
        if len(body) > limit:
            body = body[:limit] + f"\n[... the section goes on: ResourceReadLinesTool up to {last}]"
        return head + body


# -- semantic tools -------------------------------------------------------------------------


def _passage(name: str, resource_id: str, chunk: Chunk, score: float, chars: int = 600) -> str:
    where = f"lines {chunk.first_line}-{chunk.last_line}"
    if chunk.page is not None:
        where += f", page {chunk.page}"
    text = " ".join(chunk.text.split())
    if len(text) > chars:
        text = text[:chars] + " [...]"
    return f"[{score:.3f}] {name} ({resource_id}), {where}: {text}"


class ResourceSearchTool(AgentTool):
    name = "ResourceSearchTool"
    description = (
        "Semantic search: the passages of the run's resources (or of the given ones) most "
        "similar to a query, with resource, line numbers and score."
    )
    parameters = _object(
        {
            "query": {"type": "string", "minLength": 1, "maxLength": 2000},
            "resource_ids": {
                "type": "array",
                "items": RESOURCE_ID,
                "maxItems": MAX_SEARCH_RESOURCES,
            },
            "top_k": TOP_K,
        },
        ["query"],
    )

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        ids = args.get("resource_ids")
        if ids:
            infos = [await kit.resources.info(resource_id) for resource_id in ids]
        else:
            infos = (await kit.resources.scope())[:MAX_SEARCH_RESOURCES]
        query = (await kit.resources.embed([args["query"]]))[0]
        scored: list[tuple[float, int, int]] = []  # (score, chunk, position in `found`)
        found: list[tuple[ResourceInfo, list[Chunk]]] = []
        skipped: list[str] = []
        for info in infos:
            try:
                chunks, vectors = await kit.resources.chunk_vectors(info.resource_id)
            except ToolError as exc:
                skipped.append(str(exc))
                continue
            found.append((info, chunks))
            for index, score in enumerate(vectors @ query if chunks else ()):
                scored.append((float(score), index, len(found) - 1))
        top_k = int(args.get("top_k", 5))
        best = sorted(scored, key=lambda item: -item[0])[:top_k]
        lines = []
        for score, index, position in best:
            info, chunks = found[position]
            lines.append(_passage(info.name, info.resource_id, chunks[index], score))
        lines.extend(f"(skipped: {reason})" for reason in skipped)
        return "\n".join(lines) or "No passages."


class RelatedResourcesTool(AgentTool):
    name = "RelatedResourcesTool"
    description = "The run's resources whose text is most similar to a given resource."
    parameters = _object({"resource_id": RESOURCE_ID, "top_k": TOP_K}, ["resource_id"])

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        import numpy as np

        async def centroid(resource_id: str) -> Any:
            _, vectors = await kit.resources.chunk_vectors(resource_id)
            if len(vectors) == 0:
                return None
            mean = vectors.mean(axis=0)
            norm = float(np.linalg.norm(mean))
            return mean / norm if norm > 0 else None

        target = await kit.resources.info(args["resource_id"])
        own = await centroid(target.resource_id)
        if own is None:
            raise ToolError(f"resource '{target.name}' has no text")
        scored: list[tuple[float, str, str]] = []
        others = [i for i in await kit.resources.scope() if i.resource_id != target.resource_id]
        for info in others[:MAX_SEARCH_RESOURCES]:
            try:
                vector = await centroid(info.resource_id)
            except ToolError:
                continue
            if vector is not None:
                scored.append((float(vector @ own), info.resource_id, info.name))
        scored.sort(key=lambda item: -item[0])
        lines = [
            f"[{score:.3f}] {name} ({resource_id})"
            for score, resource_id, name in scored[: int(args.get("top_k", 5))]
        ]
        return "\n".join(lines) or "No other resource has text."


# -- LLM tools --------------------------------------------------------------------------------


async def _ask(kit: ToolKit, request: str) -> str:
    """An LLM tool's one call: the request as one user message to the thought model."""
    reply = await kit.llm.chat("thought", [Message("user", request)], max_tokens=REPLY_TOKENS)
    return reply.text


async def _source_text(kit: ToolKit, args: dict[str, Any]) -> tuple[str, str]:
    """(label, text) of the `text` or `resource_id` argument (exactly one), cut for an LLM."""
    has_text, has_id = "text" in args, "resource_id" in args
    if has_text == has_id:
        raise ToolError("give exactly one of 'text' and 'resource_id'")
    if has_text:
        label, text = "the text", args["text"]
    else:
        loaded = await kit.resources.text(args["resource_id"])
        label, text = f"resource '{loaded.info.name}'", loaded.text
    if len(text) > LLM_INPUT_CHARS:
        text = text[:LLM_INPUT_CHARS] + f"\n[... cut: {len(text):,} characters in all]"
    return label, text


def _text_or_resource(extra: dict[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    return _object(
        {
            "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_ARGUMENT},
            "resource_id": RESOURCE_ID,
            **extra,
        },
        required,
    )


class _OneInstructionTool(AgentTool):
    """One LLM call over a text or a resource with this tool's own instruction."""

    instruction: ClassVar[str]
    parameters = _text_or_resource(
        {"instruction": {"type": "string", "maxLength": 4000, "description": "what to focus on"}}
    )
    extra_key: ClassVar[str] = "instruction"

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        label, text = await _source_text(kit, args)
        request = f"{self.instruction}\n\nThe material is {label}:\n\n{text}"
        extra = args.get(self.extra_key)
        if extra:
            request += f"\n\nAlso: {extra}"
        return await _ask(kit, request)


class SummaryTool(_OneInstructionTool):
    name = "SummaryTool"
    description = "An LLM summary of a text or a resource, optionally with a focus."
    instruction = "Summarise the material below accurately and concisely."
    parameters = _text_or_resource({"focus": {"type": "string", "maxLength": 2000}})
    extra_key = "focus"


class ResourceSummarizationTool(SummaryTool):
    name = "ResourceSummarizationTool"
    description = "An LLM summary of a resource (or a text), optionally with a focus."


class ResourceEntitiesExtractionTool(_OneInstructionTool):
    name = "ResourceEntitiesExtractionTool"
    description = (
        "The named entities (people, organisations, places, dates, amounts) in a text or resource."
    )
    instruction = (
        "List the named entities in the material below, grouped by kind, with where they occur."
    )


class ClassifyEntitiesFromTextTool(_OneInstructionTool):
    name = "ClassifyEntitiesFromTextTool"
    description = (
        "Classifies the entities of a text or resource into categories (given in the instruction)."
    )
    instruction = (
        "Classify the entities mentioned in the material below into categories, one line "
        "per entity."
    )


class ResourcePrioritizationTool(_OneInstructionTool):
    name = "ResourcePrioritizationTool"
    description = "Ranks the items or points of a text or resource by importance, with reasons."
    instruction = (
        "Rank the items or points of the material below by importance, most important "
        "first, with a short reason each."
    )


class CriticalAnalysisTool(_OneInstructionTool):
    name = "CriticalAnalysisTool"
    description = (
        "A critical analysis of a text or resource: weaknesses, gaps, risks, unsupported claims."
    )
    instruction = (
        "Analyse the material below critically: weaknesses, gaps, risks and unsupported claims."
    )


class DraftWritingTool(_OneInstructionTool):
    name = "DraftWritingTool"
    description = "Drafts a text (given in the instruction) from a source text or resource."
    instruction = "Write the draft asked for in the instruction, based on the material below."


class WritingFeedbackTool(_OneInstructionTool):
    name = "WritingFeedbackTool"
    description = (
        "Feedback on a piece of writing: clarity, structure, correctness, concrete suggestions."
    )
    instruction = (
        "Give concrete feedback on the writing below: clarity, structure, correctness, suggestions."
    )


class ResourceGroundedEditorTool(_OneInstructionTool):
    name = "ResourceGroundedEditorTool"
    description = "Edits a text as instructed, staying faithful to the source material."
    instruction = (
        "Edit the material below as the instruction asks, changing nothing the source does "
        "not support."
    )


class ResourceQuestionAnsweringTool(AgentTool):
    name = "ResourceQuestionAnsweringTool"
    description = (
        "Answers a question from the passages of a resource most relevant to it, citing line "
        "numbers."
    )
    parameters = _object(
        {
            "resource_id": RESOURCE_ID,
            "question": {"type": "string", "minLength": 1, "maxLength": 4000},
        },
        ["resource_id", "question"],
    )

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        info = await kit.resources.info(args["resource_id"])
        chunks, vectors = await kit.resources.chunk_vectors(info.resource_id)
        if not chunks:
            raise ToolError(f"resource '{info.name}' has no text")
        query = (await kit.resources.embed([args["question"]]))[0]
        scores = vectors @ query
        best = sorted(range(len(chunks)), key=lambda index: -float(scores[index]))[:QA_PASSAGES]
        passages = "\n\n".join(
            f"[lines {chunks[i].first_line}-{chunks[i].last_line}]\n{chunks[i].text}"
            for i in sorted(best)
        )
        request = (
            f"Answer the question from these passages of '{info.name}' only, citing the line "
            "numbers you rely on (e.g. 'lines 12-18'). If they do not answer it, say so.\n\n"
            f"{passages}\n\nQuestion: {args['question']}"
        )
        return await _ask(kit, request)


class ResourceStructuredExtractionTool(AgentTool):
    name = "ResourceStructuredExtractionTool"
    description = "Extracts data matching a JSON Schema from a resource (validated JSON)."
    parameters = _object(
        {
            "resource_id": RESOURCE_ID,
            "json_schema": {"type": "object"},
            "instructions": {"type": "string", "maxLength": 4000},
        },
        ["resource_id", "json_schema"],
    )

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        problems = schema_problems(args["json_schema"])
        if problems:
            raise ToolError(
                "json_schema is not a usable Draft 7 schema: " + "; ".join(problems[:5])
            )
        label, text = await _source_text(kit, {"resource_id": args["resource_id"]})
        request = "Extract the data the JSON Schema describes from " + label
        if args.get("instructions"):
            request += f". {args['instructions']}"
        request += f"\n\n{text}"
        value = await kit.llm.structured(
            "thought", [Message("user", request)], schema=args["json_schema"], max_tokens=4096
        )
        return json.dumps(value, ensure_ascii=False)


class ResourceCreationTool(AgentTool):
    name = "ResourceCreationTool"
    description = (
        "Creates a text file in the team; returns its id (listed in the final answer's resources)."
    )
    parameters = _object(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 255},
            "content": {"type": "string", "maxLength": MAX_CREATED_CHARS},
        },
        ["name", "content"],
    )

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        file_id = await kit.host.create_text_file(args["name"], args["content"])
        kit.created_files.append(file_id)
        return f"Created file {file_id} ('{args['name']}', {len(args['content'])} characters)."


class AskAgentRunTool(AgentTool):
    name = "AskAgentRunTool"
    description = (
        "Answers a question from another agent execution of the team (its output and steps)."
    )
    parameters = _object(
        {
            "agent_execution_id": RESOURCE_ID,
            "question": {"type": "string", "minLength": 1, "maxLength": 4000},
        },
        ["agent_execution_id", "question"],
    )

    async def run(self, kit: ToolKit, args: dict[str, Any]) -> str:
        digest = await kit.host.execution_digest(args["agent_execution_id"])
        if digest is None:
            raise ToolError(f"agent execution '{args['agent_execution_id']}' was not found")
        material = json.dumps(digest, ensure_ascii=False, default=str)
        if len(material) > LLM_INPUT_CHARS:
            material = material[:LLM_INPUT_CHARS] + " [... cut]"
        request = (
            "Answer the question from this record of an agent execution (its status, output and "
            f"steps) only.\n\n{material}\n\nQuestion: {args['question']}"
        )
        return await _ask(kit, request)


TOOLS: Final[Mapping[str, type[AgentTool]]] = {
    tool.name: tool
    for tool in (
        GetDateTool,
        ResourceListTool,
        ResourceStructureTool,
        ResourceSampleTool,
        ResourceReadLinesTool,
        ResourceFindLinesTool,
        RegexSearchTool,
        ResourceSectionTool,
        ResourceSearchTool,
        RelatedResourcesTool,
        SummaryTool,
        ResourceSummarizationTool,
        ResourceQuestionAnsweringTool,
        ResourceStructuredExtractionTool,
        ResourceEntitiesExtractionTool,
        ClassifyEntitiesFromTextTool,
        ResourcePrioritizationTool,
        CriticalAnalysisTool,
        DraftWritingTool,
        WritingFeedbackTool,
        ResourceGroundedEditorTool,
        ResourceCreationTool,
        AskAgentRunTool,
    )
}


def build_toolbox(
    tool_config: Iterable[Mapping[str, Any]],
) -> tuple[list[AgentTool], list[tuple[str, str]]]:
    """(tools offered, in configuration order; (name, reason) of each tool that is not)."""
    offered: dict[str, AgentTool] = {}
    unavailable: dict[str, str] = {}
    for entry in tool_config:
        name = entry.get("type") if isinstance(entry, Mapping) else None
        if not isinstance(name, str):
            continue
        if name in TOOLS:
            offered.setdefault(name, TOOLS[name]())
        elif name in NETWORK_TOOLS:
            unavailable[name] = NETWORK_REASON
        else:
            unavailable[name[:80]] = "unknown tool"
    return list(offered.values()), list(unavailable.items())
