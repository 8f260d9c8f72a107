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
from typing import Any, Dict, Iterable, List, Optional, Tuple

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
    """Whether the request's output schema (or its wrapped value) has these properties."""
    schema = requested_schema(request) or {}
    names = set(schema.get("properties") or {})
    inner = (schema.get("properties") or {}).get("value")
    if isinstance(inner, dict):
        names |= set(inner.get("properties") or {})
        items = inner.get("items")
        if isinstance(items, dict):
            names |= set(items.get("properties") or {})
    return set(properties) <= names


class Recording:
    """Answers handed out by a responder, by key, for the test to compare with the output."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.answers: Dict[str, Any] = {}

    def keep(self, key: str, value: Any) -> Any:
        with self._lock:
            self.answers[key] = value
        return value


def lines_in(text: str, document: str, *, shortest: int = 40) -> Iterable[str]:
    """Lines of ``text`` (a prompt) that are verbatim text of ``document`` (compared
    whitespace-normalised), longest first."""
    normalised = squeeze(document)
    candidates = {squeeze(line) for line in re.split(r"\n", text)}
    found = [c for c in candidates if len(c) >= shortest and c in normalised]
    return sorted(found, key=lambda line: (-len(line), line))
