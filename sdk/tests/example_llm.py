"""What the example tests need on the provider's side: the example data, reading what the
loopback LLM server (platform/tests/llm_server.py, the conftest ``llm`` fixture) received, and
the responders that answer the AI blocks like a model would.

Kept outside the generated ``_async``/``_sync`` trees: the responders run on the loopback
server's threads, the same code for both clients.
"""

import csv
import json
import re
import threading
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
LEGAL = DATA / "04-legal-document-extraction"
VARIANCE = DATA / "05-variance-analysis"
CHAT = DATA / "06-dataset-chat"


def read_csv(path: Path) -> List[Dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def squeeze(text: str) -> str:
    """Whitespace-normalised text: how excerpts are compared with the document."""
    return " ".join(text.split())


# --- what a provider received -------------------------------------------------------------------


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return "" if content is None else json.dumps(content)


def system_text(request: Any) -> str:
    """The system text of a recorded request, in either wire protocol."""
    body = request.body
    if request.protocol == "anthropic":
        return _content_text(body.get("system"))
    messages = body.get("messages") or []
    return "\n\n".join(_content_text(m.get("content")) for m in messages if m["role"] == "system")


def turns(request: Any) -> List[Tuple[str, str]]:
    """The user and assistant messages of a recorded request, as ``(role, text)``."""
    messages = request.body.get("messages") or []
    return [(m["role"], _content_text(m.get("content"))) for m in messages if m["role"] != "system"]


def full_text(request: Any) -> str:
    """Everything the model was shown: system text and every message."""
    return "\n\n".join([system_text(request), *(text for _, text in turns(request))])


def requested_schema(request: Any) -> Optional[Dict[str, Any]]:
    """The JSON Schema a structured-output request asks for (OpenAI ``response_format``, an
    Anthropic forced tool); None for a plain request."""
    body = request.body
    if request.protocol == "openai":
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            schema: Dict[str, Any] = fmt["json_schema"]["schema"]
            return schema
        return None
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool":
        for tool in body.get("tools") or ():
            if tool.get("name") == choice.get("name"):
                found: Dict[str, Any] = tool["input_schema"]
                return found
    return None


def asks_for(request: Any, *properties: str) -> bool:
    """Whether the request asks for an object with these properties (structured output)."""
    schema = requested_schema(request) or {}
    return set(properties) <= set(schema.get("properties") or {})


CLAUSE_NUMBER = re.compile(r"^Clause number: *(\S+)", re.MULTILINE)


def clause_asked(request: Any) -> str:
    """The clause number an AI block's request is about: the prompts of both example blocks
    carry a ``Clause number: <n>`` line."""
    found = CLAUSE_NUMBER.search(full_text(request))
    assert found, f"no clause number in: {full_text(request)[:300]}"
    return found.group(1)


CLAUSE_NAME = re.compile(r"^Clause name: *(.+)$", re.MULTILINE)


def clause_named(request: Any) -> str:
    """The clause name a search request is about (its ``Clause name: <name>`` line)."""
    found = CLAUSE_NAME.search(full_text(request))
    assert found, f"no clause name in: {full_text(request)[:300]}"
    return found.group(1).strip()


def lines_in(text: str, document: str, *, shortest: int = 30) -> List[str]:
    """Lines of ``text`` (a prompt) that are verbatim text of ``document`` (compared
    whitespace-normalised), longest first."""
    normalised = squeeze(document)
    candidates = {squeeze(line) for line in text.splitlines()}
    found = [c for c in candidates if len(c) >= shortest and c in normalised]
    return sorted(found, key=lambda line: (-len(line), line))


class Call(NamedTuple):
    """A request as a responder sees it (the same fields as a recorded one)."""

    protocol: str
    body: Dict[str, Any]


def replies() -> Any:
    """The loopback server's reply builders (platform/tests/llm_server.py, on sys.path through
    conftest), imported when a responder first answers."""
    import llm_server

    return llm_server


class Responder:
    """A loopback handler: `answer` for the requests it knows, the default answer otherwise.
    What it answered is kept by key (`answers`) for the test to compare with the output."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.answers: Dict[str, Any] = {}

    def __call__(self, protocol: str, body: Dict[str, Any]) -> Any:
        call = Call(protocol, body)
        value = self.answer(call)
        if value is None:
            return replies().default_reply(protocol, body)
        return replies().json_reply(value)

    def keep(self, key: str, value: Any) -> Any:
        with self._lock:
            self.answers[key] = value
        return value

    def answer(self, call: Call) -> Optional[Dict[str, Any]]:
        raise NotImplementedError


# --- example 04: the clause extraction agent ----------------------------------------------------

# Clauses the model "finds", by a word of the passage it quotes.
FOUND_BY_KEYWORD = {"004": "remunerate", "012": "vacation", "025": "confidential"}
# A clause the model claims with an excerpt the contract does not contain.
INVENTED = {"022": "The Employee shall not compete with the Employer anywhere in Canada."}
# Also sent for clause 004, beside its verbatim excerpt: the block must drop it.
PARAPHRASE = "The employee is paid a fair wage for the work."


class ExtractionResponder(Responder):
    """Search requests get the default answer (queries taken from the prompt). Extraction
    requests: for the clauses of FOUND_BY_KEYWORD, found, quoting the longest candidate line
    with the keyword (verbatim text of the document); for INVENTED, found with a made-up
    excerpt only; every other clause not found."""

    def __init__(self, document: str) -> None:
        super().__init__()
        self.document = document

    def answer(self, call: Call) -> Optional[Dict[str, Any]]:
        if not asks_for(call, "found", "excerpts"):
            return None
        number = clause_asked(call)
        reasoning = f"Clause {number}: judged from the candidate passages."
        if number in INVENTED:
            excerpts = [{"section": "Anywhere", "text": INVENTED[number]}]
            return self.keep(number, {"found": True, "excerpts": excerpts, "reasoning": reasoning})
        keyword = FOUND_BY_KEYWORD.get(number)
        prompt = "\n".join(text for _, text in turns(call))
        lines = lines_in(prompt, self.document)
        quoted = [line for line in lines if keyword and keyword in line.lower()]
        if not quoted:
            return self.keep(number, {"found": False, "excerpts": [], "reasoning": reasoning})
        excerpts = [{"section": "as the passage says", "text": quoted[0]}]
        if number == "004":
            excerpts.append({"section": "made up", "text": PARAPHRASE})
        return self.keep(number, {"found": True, "excerpts": excerpts, "reasoning": reasoning})


# --- example 05: the variance determination -----------------------------------------------------


class VarianceResponder(Responder):
    """Each clause's determination, derived from its number so that the answers differ: every
    third clause MODIFY with two drafting instructions, a confidence that needs rounding, and
    as many research insights as the number's remainder by 4."""

    def answer(self, call: Call) -> Optional[Dict[str, Any]]:
        if not asks_for(call, "decision", "confidence"):
            return None
        number = clause_asked(call)
        n = int(number)
        modify = n % 3 == 0
        insights = [
            {"topic": f"Topic {i}", "source_type": "Case Law", "insight": f"Insight {i} on {n}"}
            for i in range(n % 4)
        ]
        value = {
            "decision": "MODIFY" if modify else "ACCEPT",
            "materiality": "MATERIAL" if modify else "DE_MINIMIS",
            "confidence": 0.5 + n / 128,
            "reasoning": f"Clause {n} compared with its benchmark and guidance.",
            "drafting_instructions": (
                [f"State the ESA minimum for clause {n}", "Name the governing statute"]
                if modify
                else []
            ),
            "research_insights": insights,
        }
        return self.keep(number, value)
