"""A loopback HTTP server that speaks the LLM providers' wire protocols, for tests (never
product code: the product ships no fake LLM).

    POST /v1/chat/completions   OpenAI chat completions (openai client base URL .../v1)
    POST /v1/messages           Anthropic Messages API   (anthropic client base URL ...)

Non-streaming. What it answers, in order: the next scripted reply (`server.script(...)`), else
the handler (`server.handler = fn(protocol, request_json) -> Reply`), else the default
responder: for a structured-output request (OpenAI `response_format` json_schema, an Anthropic
forced tool) a deterministic value valid against the schema, for a request that must call a tool
a call of the first tool with valid arguments, otherwise a short text derived from the last user
message. Every request is recorded (`server.requests`), calls in flight are counted
(`max_in_flight`), and `reset()` (the `llm_server` fixture does it) clears all of that.

    def test_x(llm_server: LLMServer) -> None:
        llm_server.script(error_reply(429, retry_after=0), text_reply("hello"))
        settings = Settings(**llm_settings(llm_server))

Server processes started by tests get `llm_env(server)` in their environment.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest

__all__ = [
    "LLMServer",
    "Recorded",
    "Reply",
    "error_reply",
    "garbage_reply",
    "json_reply",
    "last_user_text",
    "llm_env",
    "llm_server",
    "llm_settings",
    "schema_instance",
    "shared_llm_server",
    "slow_reply",
    "text_reply",
    "tool_reply",
]

WireProtocol = Literal["openai", "anthropic"]
PROVIDERS = ("openai", "anthropic", "groq", "cerebras", "google", "vertexai", "cohere")
_MISSING: Any = object()


@dataclass
class Reply:
    """One scripted answer, rendered in the request's protocol when it is served."""

    text: str = ""
    value: Any = _MISSING  # a structured answer (JSON text, or the forced tool's input)
    tool_calls: list[tuple[str, Any]] = field(default_factory=list)  # (name, dict or raw str)
    status: int = 200
    error_message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # sent as is (a garbage body)
    content_type: str = "application/json"
    delay: float = 0.0
    usage: tuple[int, int] = (11, 7)
    stop_reason: str | None = None


def text_reply(text: str, *, usage: tuple[int, int] = (11, 7)) -> Reply:
    return Reply(text=text, usage=usage)


def json_reply(value: Any, *, fenced: bool = False, usage: tuple[int, int] = (11, 7)) -> Reply:
    """A structured answer; `fenced` sends it as text in a ```json block instead."""
    if fenced:
        return Reply(text=f"Here it is:\n```json\n{json.dumps(value)}\n```\n", usage=usage)
    return Reply(value=value, usage=usage)


def tool_reply(*calls: tuple[str, Any], text: str = "") -> Reply:
    """Tool calls: `(name, arguments)`; a str argument is sent as is (e.g. invalid JSON)."""
    return Reply(text=text, tool_calls=list(calls))


def error_reply(
    status: int, message: str = "scripted failure", *, retry_after: float | None = None
) -> Reply:
    headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
    return Reply(status=status, error_message=message, headers=headers)


def garbage_reply(body: bytes = b"<html>not json</html>", content_type: str = "text/html") -> Reply:
    return Reply(body=body, content_type=content_type)


def slow_reply(delay: float, reply: Reply | None = None) -> Reply:
    slow = reply or text_reply("slow")
    slow.delay = delay
    return slow


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def protocol(self) -> WireProtocol:
        return "anthropic" if self.path.endswith("/messages") else "openai"


Handler = Callable[[WireProtocol, dict[str, Any]], Reply]


class LLMServer:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._queue: deque[Reply] = deque()
        self.handler: Handler | None = None
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        # Set to end the delays of slow replies (on reset and on close).
        self._wake = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        port: int = self._httpd.server_address[1]
        return port

    @property
    def openai_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.handler = None
            self.requests = []
            self.in_flight = 0
            self.max_in_flight = 0
            self._wake.set()
            self._wake = threading.Event()

    def wait_for_in_flight(self, count: int, timeout: float = 30.0) -> bool:
        """From a handler: wait until `count` calls are in flight (False after `timeout`)."""
        with self._lock:
            return self._lock.wait_for(lambda: self.in_flight >= count, timeout)

    def close(self) -> None:
        self._wake.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    # ---- serving (handler threads) ----

    def _enter(
        self, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[Reply | None, threading.Event]:
        with self._lock:
            self.requests.append(Recorded(path, headers, body))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._lock.notify_all()
            return (self._queue.popleft() if self._queue else None), self._wake

    def _leave(self) -> None:
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)
            self._lock.notify_all()

    def answer(
        self, protocol: WireProtocol, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> Reply:
        scripted, wake = self._enter(path, headers, body)
        try:
            reply = scripted
            if reply is None:
                handler = self.handler
                reply = (
                    handler(protocol, body)
                    if handler is not None
                    else default_reply(protocol, body)
                )
            if reply.delay:
                wake.wait(reply.delay)
            return reply
        finally:
            self._leave()


def _make_handler(server: LLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two sends: without TCP_NODELAY the body waits for the
        # client's delayed ACK (about 40 ms a call).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            path = self.path.split("?", 1)[0]
            if path.endswith("/chat/completions"):
                protocol: WireProtocol = "openai"
            elif path.endswith("/messages"):
                protocol = "anthropic"
            else:
                self._send(
                    404, b'{"error": {"message": "no such endpoint"}}', "application/json", {}
                )
                return
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            headers = {key.lower(): value for key, value in self.headers.items()}
            reply = server.answer(protocol, path, headers, body)
            status, payload, content_type = render(protocol, body, reply)
            with contextlib.suppress(OSError):  # the client gave up (a timeout test)
                self._send(status, payload, content_type, reply.headers)

        def _send(
            self, status: int, payload: bytes, content_type: str, headers: dict[str, str]
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


# ---- rendering a Reply in a protocol ----


def render(protocol: WireProtocol, request: dict[str, Any], reply: Reply) -> tuple[int, bytes, str]:
    if reply.body is not None:
        return reply.status, reply.body, reply.content_type
    if reply.status >= 400:
        if protocol == "anthropic":
            error = {
                "type": "error",
                "error": {"type": "api_error", "message": reply.error_message},
            }
        else:
            error = {
                "error": {"message": reply.error_message, "type": "server_error", "code": None}
            }
        return reply.status, json.dumps(error).encode(), "application/json"
    data = _anthropic(request, reply) if protocol == "anthropic" else _openai(request, reply)
    return 200, json.dumps(data).encode(), "application/json"


def _arguments_text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _openai(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.value is not _MISSING:
        message["content"] = json.dumps(reply.value)
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{index}",
                "type": "function",
                "function": {"name": name, "arguments": _arguments_text(arguments)},
            }
            for index, (name, arguments) in enumerate(reply.tool_calls)
        ]
    finish = reply.stop_reason or ("tool_calls" if reply.tool_calls else "stop")
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "unknown"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": reply.usage[0],
            "completion_tokens": reply.usage[1],
            "total_tokens": sum(reply.usage),
        },
    }


def _forced_tool(request: dict[str, Any]) -> dict[str, Any] | None:
    choice = request.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool":
        for tool in request.get("tools") or ():
            if tool.get("name") == choice.get("name"):
                return dict(tool)
    return None


def _anthropic(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.text:
        content.append({"type": "text", "text": reply.text})
    calls = list(reply.tool_calls)
    if reply.value is not _MISSING:
        forced = _forced_tool(request)
        if forced is not None:
            calls.insert(0, (str(forced["name"]), reply.value))
        else:
            content.append({"type": "text", "text": json.dumps(reply.value)})
    for index, (name, arguments) in enumerate(calls):
        # The Messages API sends tool input as an object; a raw string stands for a broken one.
        content.append(
            {"type": "tool_use", "id": f"toolu_{index}", "name": name, "input": arguments}
        )
    stop = reply.stop_reason or ("tool_use" if calls else "end_turn")
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": request.get("model", "unknown"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": reply.usage[0], "output_tokens": reply.usage[1]},
    }


# ---- the default responder ----


def last_user_text(protocol: WireProtocol, request: dict[str, Any]) -> str:
    for message in reversed(request.get("messages") or ()):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _requested_schema(protocol: WireProtocol, request: dict[str, Any]) -> dict[str, Any] | None:
    if protocol == "openai":
        fmt = request.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            schema = (fmt.get("json_schema") or {}).get("schema")
            return schema if isinstance(schema, dict) else {}
        return None
    forced = _forced_tool(request)
    return forced.get("input_schema") if forced is not None else None


def _required_tool(
    protocol: WireProtocol, request: dict[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    tools = request.get("tools") or []
    if not tools:
        return None
    choice = request.get("tool_choice")
    if protocol == "openai" and choice == "required":
        function = tools[0]["function"]
        return function["name"], function.get("parameters") or {}
    if protocol == "anthropic" and isinstance(choice, dict) and choice.get("type") == "any":
        return tools[0]["name"], tools[0].get("input_schema") or {}
    return None


def default_reply(protocol: WireProtocol, request: dict[str, Any]) -> Reply:
    prompt = last_user_text(protocol, request)
    schema = _requested_schema(protocol, request)
    if schema is not None:
        return Reply(value=schema_instance(schema, prompt))
    tool = _required_tool(protocol, request)
    if tool is not None:
        return tool_reply((tool[0], schema_instance(tool[1], prompt)))
    return text_reply(f"Reply to: {prompt[:200]}")


def schema_instance(schema: Any, prompt: str = "", *, root: Any = None, depth: int = 0) -> Any:
    """A deterministic value valid against simple Draft 7 schemas: objects with their required
    properties, the first enum value, strings from the prompt, numbers in range, one item."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > 32:
        return None
    if "$ref" in schema and isinstance(schema["$ref"], str) and schema["$ref"].startswith("#"):
        target: Any = root
        for part in schema["$ref"][1:].split("/")[1:]:
            target = (
                target.get(part.replace("~1", "/").replace("~0", "~"), {})
                if isinstance(target, dict)
                else {}
            )
        return schema_instance(target, prompt, root=root, depth=depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return schema_instance(schema[key][0], prompt, root=root, depth=depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                for key, value in part.items():
                    if key in ("properties",) and isinstance(value, dict):
                        merged.setdefault("properties", {}).update(value)
                    elif key == "required" and isinstance(value, list):
                        merged["required"] = [*merged.get("required", []), *value]
                    else:
                        merged.setdefault(key, value)
        return schema_instance(merged, prompt, root=root, depth=depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        properties = schema.get("properties") or {}
        result: dict[str, Any] = {}
        for name in schema.get("required") or ():
            result[name] = schema_instance(
                properties.get(name, {}), prompt, root=root, depth=depth + 1
            )
        return result
    if kind == "array":
        items = schema.get("items")
        count = max(1, int(schema.get("minItems", 1)))
        if isinstance(schema.get("maxItems"), int):
            count = min(count, schema["maxItems"])
        if isinstance(items, list):  # tuple form
            return [schema_instance(item, prompt, root=root, depth=depth + 1) for item in items]
        return [
            schema_instance(items or {}, prompt, root=root, depth=depth + 1) for _ in range(count)
        ]
    if kind in ("number", "integer"):
        return _number(schema, integer=kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, prompt)


def _number(schema: dict[str, Any], *, integer: bool) -> float | int:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None and high is not None:
        value = (low + high) / 2
    elif low is not None:
        value = low + 1
    elif high is not None:
        value = high - 1
    else:
        value = 1
    if integer:
        value = int(value)
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            value = int(schema["exclusiveMinimum"]) + 1
    return value


def _string(schema: dict[str, Any], prompt: str) -> str:
    text = re.sub(r"\s+", " ", prompt).strip()[:60] or "text"
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    if len(text) < low:
        text = text + "x" * (low - len(text))
    if isinstance(high, int):
        text = text[:high]
    return text


# ---- fixtures and environment ----

_shared: LLMServer | None = None
_shared_lock = threading.Lock()


def shared_llm_server() -> LLMServer:
    """The test process's one server (started on first use, stopped at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LLMServer()
            atexit.register(_shared.close)
        return _shared


@pytest.fixture
def llm_server() -> Iterator[LLMServer]:
    """The shared server, reset for this test."""
    server = shared_llm_server()
    server.reset()
    yield server
    server.reset()


def llm_settings(server: LLMServer) -> dict[str, Any]:
    """`Settings(**llm_settings(server))`: every provider pointed at the server."""
    values: dict[str, Any] = {}
    for provider in PROVIDERS:
        base = server.anthropic_base_url if provider == "anthropic" else server.openai_base_url
        values[f"{provider}_base_url"] = base
        values[f"{provider}_api_key"] = "test"
    return values


def llm_env(server: LLMServer) -> dict[str, str]:
    """The same as `MODERATELY_*` variables, for server and worker processes tests start."""
    return {
        f"MODERATELY_{name.upper()}": str(value) for name, value in llm_settings(server).items()
    }
