"""The one request path against the real server: raw responses, request ids, logging, client
copies and their repr, connection errors, and pages that iterate their items."""

import logging
import socket
import uuid
from typing import Any, List

import httpx
import pytest

from moderatelyai_sdk import (
    Agent,
    APIConnectionError,
    APITimeoutError,
    AsyncModeratelyAI,
    AsyncRawResponse,
    NotFoundError,
    TimeoutError,
)

pytestmark = pytest.mark.anyio


def connect(credentials: Any, **overrides: Any) -> AsyncModeratelyAI:
    settings = {
        "api_key": credentials.api_key,
        "team_id": credentials.team_id,
        "base_url": credentials.base_url,
        **overrides,
    }
    return AsyncModeratelyAI(**settings)


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


# --- raw responses and request ids ------------------------------------------------------------


async def test_raw_response_of_a_retrieve(fresh: Any) -> None:
    async with connect(fresh) as client:
        agent = await client.agents.create(name=unique("Raw"))
        raw = await client.with_raw_response.agents.retrieve(agent.agent_id)
        assert isinstance(raw, AsyncRawResponse)
        assert raw.status_code == 200
        assert raw.headers["content-type"].startswith("application/json")
        assert raw.request_id and raw.request_id == raw.http_response.headers["x-request-id"]
        parsed = await raw.parse()
        assert isinstance(parsed, Agent) and parsed.agent_id == agent.agent_id
        assert parsed._request_id == raw.request_id
        assert repr(raw).startswith("<AsyncRawResponse [200] GET /agents/")


async def test_raw_response_of_create_list_and_delete(fresh: Any) -> None:
    async with connect(fresh) as client:
        created = await client.with_raw_response.agents.create(name=unique("Raw"))
        assert created.status_code == 201
        agent = await created.parse()
        page = await (await client.with_raw_response.agents.list()).parse()
        assert agent.agent_id in [a.agent_id for a in page.data]
        deleted = await client.with_raw_response.agents.delete(agent.agent_id)
        assert deleted.status_code in (200, 204)
        assert await deleted.parse() is None


async def test_raw_response_errors_raise_like_the_plain_call(fresh: Any) -> None:
    async with connect(fresh) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.with_raw_response.agents.retrieve("agent_missing")
    assert caught.value.request_id


async def test_raw_response_of_a_sub_call_and_not_of_helpers(fresh: Any) -> None:
    async with connect(fresh) as client:
        raw = await client.with_raw_response.users.retrieve(fresh.user_id)
        assert raw.status_code == 200
        with pytest.raises(AttributeError):
            client.with_raw_response.team_id  # noqa: B018 - not an API call


async def test_every_model_keeps_its_request_id(fresh: Any) -> None:
    async with connect(fresh) as client:
        agent = await client.agents.create(name=unique("Ids"))
        page = await client.agents.list()
    assert agent._request_id
    assert page._request_id and all(item._request_id == page._request_id for item in page)


# --- logging ------------------------------------------------------------------------------------


async def test_one_debug_line_per_request_without_secrets(
    fresh: Any, caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    caplog.set_level(logging.DEBUG, logger="moderatelyai_sdk")
    async with connect(fresh) as client:
        agent = await client.agents.create(name=unique("Logged"))
        await client.agents.retrieve(agent.agent_id)
        uploaded = await client.files.upload(b"a,b\n1,2\n", name="logged.csv")
        assert await client.files.download(uploaded.file_id) == b"a,b\n1,2\n"
    lines = [r.getMessage() for r in caplog.records if r.name == "moderatelyai_sdk"]
    create = next(line for line in lines if line.startswith("POST /agents -> 201"))
    assert "ms (request id " in create and "attempt 1" in create
    assert any(line.startswith(f"GET /agents/{agent.agent_id} -> 200") for line in lines)
    # Presigned transfers name only the storage host: no path token, no signature.
    storage = [line for line in lines if " storage " in line]
    assert {line.split()[0] for line in storage} >= {"PUT", "GET"}
    text = "\n".join(lines)
    assert fresh.api_key not in text and "mai_" not in text
    for marker in ("?", "X-Amz-Signature", "token=", "Bearer"):
        assert marker not in text, marker


async def test_retries_are_logged_at_info(
    caplog: pytest.LogCaptureFixture, sleeps: List[float]
) -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json={"agentId": "a", "name": "n"})])
    transport = httpx.MockTransport(lambda request: next(answers))
    caplog.set_level(logging.INFO, logger="moderatelyai_sdk")
    async with AsyncModeratelyAI(
        api_key="mai_secret",
        team_id="t",
        base_url="http://api.test",
        http_client=httpx.AsyncClient(transport=transport),
    ) as client:
        await client.agents.retrieve("a")
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert line.startswith("GET /agents/a: HTTP 503; retrying in") and "(attempt 2 of 4)" in line
    assert sleeps and "mai_secret" not in line


def test_moderately_log_turns_logging_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from moderatelyai_sdk import _logs

    logger = logging.getLogger("moderatelyai_sdk")
    before = (logger.level, list(logger.handlers))
    try:
        monkeypatch.setenv("MODERATELY_LOG", "debug")
        _logs.setup_from_environment()
        assert logger.level == logging.DEBUG and logger.handlers
        monkeypatch.setenv("MODERATELY_LOG", "info")
        _logs.setup_from_environment()
        assert logger.level == logging.INFO
    finally:
        logger.setLevel(before[0])
        logger.handlers[:] = before[1]


# --- client copies ------------------------------------------------------------------------------


async def test_copy_changes_key_team_base_url_and_headers(
    fresh: Any, outsider: Any, server: Any
) -> None:
    seen: List[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request)

    http = httpx.AsyncClient(event_hooks={"request": [record]})
    async with connect(fresh, http_client=http) as client:
        other = client.copy(
            api_key=outsider.api_key,
            team_id=outsider.team_id,
            default_headers={"X-Trace": "on"},
            max_retries=0,
            timeout=7,
        )
        created = await other.agents.create(name=unique("Elsewhere"))
        assert created.team_id == outsider.team_id
        with pytest.raises(NotFoundError):  # the original key is still the fresh user's
            await client.agents.retrieve(created.agent_id)
        assert other.max_retries == 0 and other.timeout.read == 7
        assert client.max_retries == 3 and client.team_id == fresh.team_id
        moved = client.with_options(base_url=server.admin.base_url + "/")
        assert moved.base_url == server.admin.base_url
    await http.aclose()
    headers = [r.headers for r in seen]
    assert headers[0]["authorization"] == f"Bearer {outsider.api_key}"
    assert headers[0]["x-trace"] == "on"
    assert "x-trace" not in headers[1]


def test_repr_shows_settings_and_never_the_key() -> None:
    client = AsyncModeratelyAI(api_key="mai_topsecret", team_id="team_1", base_url="http://x/")
    text = repr(client)
    assert text == (
        "AsyncModeratelyAI(base_url='http://x', team_id='team_1', "
        "timeout=Timeout(connect=10.0, read=30.0, write=30.0, pool=30.0), max_retries=3)"
    )
    assert "topsecret" not in repr(client.with_options(timeout=5))
    assert repr(client.with_options(timeout=5)).endswith("timeout=5, max_retries=3)")
    assert "AsyncAgents of AsyncModeratelyAI(" in repr(client.agents)


# --- connection errors --------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_refused_connection_is_an_api_connection_error(sleeps: List[float]) -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}"
    async with AsyncModeratelyAI(api_key="k", team_id="t", base_url=base_url) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.agents.retrieve("a", max_retries=2)
    error = caught.value
    assert not isinstance(error, APITimeoutError)
    assert isinstance(error, TimeoutError)  # 0.2.7 code catches this
    assert "after 3 attempt(s): no answer from the server (ConnectError" in str(error)
    assert error.request is not None and error.request.url.path == "/agents/a"
    assert len(sleeps) == 2


async def test_a_server_that_never_answers_is_an_api_timeout_error(
    sleeps: List[float],
) -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        async with AsyncModeratelyAI(api_key="k", team_id="t", base_url=base_url) as client:
            with pytest.raises(APITimeoutError) as caught:
                await client.agents.retrieve("a", timeout=0.2, max_retries=1)
    assert isinstance(caught.value, APIConnectionError)
    assert isinstance(caught.value, TimeoutError)
    assert "timed out after 2 attempt(s)" in str(caught.value)


# --- pages --------------------------------------------------------------------------------------


async def test_pages_iterate_items_and_keep_the_wire_dict(fresh: Any) -> None:
    async with connect(fresh) as client:
        names = {unique("Paged") for _ in range(3)}
        for name in names:
            await client.agents.create(name=name)
        page = await client.agents.list(page_size=2)
        # A plain ``for`` starts with this page's items (the sync page walks on to the last).
        assert [a.agent_id for a in page][:2] == [a.agent_id for a in page["items"]]
        assert set(page.keys()) >= {"items", "pagination"} and dict(page)["items"] is page.data
        walked = [a.name async for a in page]
        assert set(walked) == names
        assert repr(page).startswith("<AsyncPage page 1 of 2: 2 Agent>")
