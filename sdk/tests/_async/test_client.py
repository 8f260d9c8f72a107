"""Client behaviour on the wire, observed at the transport seam: settings, headers, query
encoding, error mapping, pagination and models. Real-server tests live in test_resources.py."""

import json
from typing import Any, Dict, List

import httpx
import pytest

from moderatelyai_sdk import (
    APIError,
    AsyncModeratelyAI,
    AsyncPage,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    Team,
    UnprocessableEntityError,
    UserAsyncModel,
    ValidationError,
)

pytestmark = pytest.mark.anyio

USER = {
    "userId": "user_1",
    "fullName": "Ada Lovelace",
    "createdAt": "2025-08-22T20:14:27.504Z",
    "updatedAt": "2025-08-22T20:14:27.504Z",
}
AGENT = {"agentId": "agent_1", "teamId": "team_1", "name": "Support", "description": None}


class Recorder:
    """A transport handler that records requests and answers from a route function."""

    def __init__(self, route: Any = None) -> None:
        self.requests: List[httpx.Request] = []
        self.route = route or (lambda request: httpx.Response(200, json=AGENT))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response: httpx.Response = self.route(request)
        return response

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def client_for(recorder: Recorder, **options: Any) -> AsyncModeratelyAI:
    options.setdefault("api_key", "test-key")
    options.setdefault("team_id", "team_1")
    options.setdefault("base_url", "http://api.test")
    options.setdefault("max_retries", 0)
    transport = httpx.MockTransport(recorder)
    return AsyncModeratelyAI(http_client=httpx.AsyncClient(transport=transport), **options)


def envelope(status: int, message: str, details: Any = None, **top: Any) -> httpx.Response:
    error: Dict[str, Any] = {"code": "X", "message": message, "requestId": "req_env"}
    if details is not None:
        error["details"] = details
    return httpx.Response(status, json={"error": error, **top})


# --- construction and settings ---------------------------------------------------------------


async def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODERATELY_API_KEY", "env-key")
    monkeypatch.setenv("MODERATELY_TEAM_ID", "env-team")
    monkeypatch.setenv("MODERATELY_BASE_URL", "http://env.test/")
    async with AsyncModeratelyAI() as client:
        assert (client.api_key, client.team_id, client.base_url) == (
            "env-key",
            "env-team",
            "http://env.test",
        )
    async with AsyncModeratelyAI(api_key="arg-key", team_id="arg-team") as client:
        assert (client.api_key, client.team_id) == ("arg-key", "arg-team")


async def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODERATELY_BASE_URL", raising=False)
    async with AsyncModeratelyAI(api_key="k", team_id="t") as client:
        assert client.base_url == "https://api.moderately.ai"


@pytest.mark.parametrize("missing", ["MODERATELY_API_KEY", "MODERATELY_TEAM_ID"])
@pytest.mark.parametrize("value", [None, ""])
async def test_missing_key_or_team_is_a_value_error(
    monkeypatch: pytest.MonkeyPatch, missing: str, value: Any
) -> None:
    monkeypatch.setenv("MODERATELY_API_KEY", "k")
    monkeypatch.setenv("MODERATELY_TEAM_ID", "t")
    if value is None:
        monkeypatch.delenv(missing)
    else:
        monkeypatch.setenv(missing, value)  # an empty variable counts as missing
    with pytest.raises(ValueError, match="required"):
        AsyncModeratelyAI()


async def test_headers_and_default_query_on_every_request() -> None:
    recorder = Recorder()
    async with client_for(
        recorder, default_headers={"X-Extra": "1"}, default_query={"trace": True}
    ) as client:
        await client.agents.retrieve("agent_1")
    request = recorder.last
    assert request.headers["Authorization"] == "Bearer test-key"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("moderatelyai-python/")
    assert request.headers["X-Extra"] == "1"
    assert request.url.path == "/agents/agent_1"
    assert dict(request.url.params) == {"teamIds": "team_1", "trace": "true"}


async def test_caller_http_client_still_gets_auth_and_stays_open() -> None:
    recorder = Recorder()
    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder), headers={"X-Mine": "yes"})
    async with AsyncModeratelyAI(
        api_key="k", team_id="t", base_url="http://a", http_client=http
    ) as c:
        await c.agents.retrieve("agent_1")
    assert recorder.last.headers["Authorization"] == "Bearer k"
    assert recorder.last.headers["X-Mine"] == "yes"
    assert not http.is_closed
    await http.aclose()


async def test_own_http_client_is_closed() -> None:
    client = AsyncModeratelyAI(api_key="k", team_id="t")
    async with client:
        pass
    assert client._http.is_closed


async def test_base_url_with_path_prefix() -> None:
    recorder = Recorder()
    async with client_for(recorder, base_url="http://api.test/prefix/") as client:
        await client.agents.retrieve("a/b c")
    assert recorder.last.url.raw_path.startswith(b"/prefix/agents/a%2Fb%20c?")


async def test_with_options_timeout_applies_to_the_copy_only() -> None:
    recorder = Recorder()
    async with client_for(recorder, timeout=20.0) as client:
        await client.with_options(timeout=3.0).agents.retrieve("agent_1")
        await client.agents.retrieve("agent_1")
    first, second = recorder.requests
    assert first.extensions["timeout"]["read"] == 3.0
    assert second.extensions["timeout"]["read"] == 20.0


@pytest.mark.parametrize("method", ["retrieve", "update", "delete"])
async def test_empty_id_is_refused_before_any_request(method: str) -> None:
    recorder = Recorder()
    async with client_for(recorder) as client:
        with pytest.raises(ValueError, match="agent_id"):
            await getattr(client.agents, method)("")
    assert recorder.requests == []


# --- request shapes ----------------------------------------------------------------------------


async def test_list_sends_camel_case_paging_and_sort_keys() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"items": [], "pagination": {}}))
    async with client_for(recorder) as client:
        await client.users.list()
        await client.teams.list(page=2, page_size=50, order_by="name", order_direction="asc")
        await client.agents.list(order_by="updated_at")
    params = [dict(r.url.params) for r in recorder.requests]
    assert params[0] == {
        "teamIds": "team_1",
        "page": "1",
        "pageSize": "10",
        "orderBy": "createdAt",
        "orderDirection": "desc",
    }
    assert params[1]["page"] == "2" and params[1]["pageSize"] == "50"
    assert params[1]["orderBy"] == "name" and params[1]["orderDirection"] == "asc"
    assert params[2]["orderBy"] == "updatedAt"
    assert [r.url.path for r in recorder.requests] == ["/users", "/teams", "/agents"]


async def test_agent_create_sends_client_team_unless_team_id_given() -> None:
    recorder = Recorder(lambda r: httpx.Response(201, json=AGENT))
    async with client_for(recorder) as client:
        await client.agents.create(name="A")
        await client.agents.create(name="B", description="d", team_id="team_2", extra_field=1)
    bodies = [json.loads(r.content) for r in recorder.requests]
    assert bodies[0] == {"name": "A", "teamId": "team_1"}
    assert bodies[1] == {"name": "B", "teamId": "team_2", "description": "d", "extraField": 1}
    assert all(r.method == "POST" and r.url.path == "/agents" for r in recorder.requests)


async def test_updates_send_only_given_fields() -> None:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/teams"):
            return httpx.Response(200, json={"teamId": "team_1", "name": "T"})
        if request.url.path.startswith("/users"):
            return httpx.Response(200, json=USER)
        return httpx.Response(200, json=AGENT)

    recorder = Recorder(route)
    async with client_for(recorder) as client:
        await client.agents.update("agent_1", description="new")
        await client.teams.update("team_1", name="T")
        await client.teams.create(name="T", description="D")
        await client.users.update("user_1", full_name="Ada", nickname="A")
    assert [(r.method, r.url.path, json.loads(r.content)) for r in recorder.requests] == [
        ("PATCH", "/agents/agent_1", {"description": "new"}),
        ("PATCH", "/teams/team_1", {"name": "T"}),
        ("POST", "/teams", {"name": "T", "description": "D"}),
        ("PATCH", "/users/user_1", {"fullName": "Ada", "nickname": "A"}),
    ]


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(204),
        httpx.Response(200, json={"success": True, "message": "Agent deleted"}),
    ],
)
async def test_delete_returns_none(response: httpx.Response) -> None:
    recorder = Recorder(lambda r: response)
    async with client_for(recorder) as client:
        assert await client.agents.delete("agent_1") is None
        assert await client.teams.delete("team_1") is None
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("DELETE", "/agents/agent_1"),
        ("DELETE", "/teams/team_1"),
    ]


# --- errors ----------------------------------------------------------------------------------


async def test_validation_error_from_the_envelope_details() -> None:
    details = [{"field": "name", "message": "must not be empty", "value": ""}]
    recorder = Recorder(lambda r: envelope(400, "Invalid agent", details))
    async with client_for(recorder) as client:
        with pytest.raises(ValidationError) as caught:
            await client.agents.create(name="")
    error = caught.value
    assert isinstance(error, APIError)
    assert error.status_code == 400
    assert error.message == "Invalid agent"
    assert error.validation_details == details
    assert error.request_id == "req_env"
    assert error.body["error"]["details"] == details
    assert "  - name: must not be empty" in str(error)


async def test_validation_error_from_top_level_details_and_message() -> None:
    details = [{"field": "pageSize", "message": "must be <= 1000"}]
    body = {"message": "Bad paging", "details": details}
    recorder = Recorder(lambda r: httpx.Response(400, json=body, headers={"X-Request-Id": "r7"}))
    async with client_for(recorder) as client:
        with pytest.raises(ValidationError) as caught:
            await client.agents.list(page_size=5000)
    assert caught.value.validation_details == details
    assert caught.value.message == "Bad paging"
    assert caught.value.request_id == "r7"


async def test_400_without_details_is_a_plain_api_error() -> None:
    recorder = Recorder(lambda r: envelope(400, "Cannot do that"))
    async with client_for(recorder) as client:
        with pytest.raises(APIError) as caught:
            await client.agents.retrieve("agent_1")
    assert type(caught.value) is APIError
    assert caught.value.status_code == 400


@pytest.mark.parametrize(
    ("status", "exc_type"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (418, APIError),
        (500, APIError),
    ],
)
async def test_status_to_exception(status: int, exc_type: type) -> None:
    recorder = Recorder(lambda r: envelope(status, f"status {status}"))
    async with client_for(recorder) as client:
        with pytest.raises(exc_type) as caught:
            await client.agents.retrieve("agent_1")
    assert type(caught.value) is exc_type
    assert caught.value.status_code == status
    assert caught.value.message == f"status {status}"
    assert caught.value.request_id == "req_env"
    if status == 403:
        assert isinstance(caught.value, AuthenticationError)


async def test_non_json_error_body() -> None:
    recorder = Recorder(lambda r: httpx.Response(502, text="Bad gateway from the proxy"))
    async with client_for(recorder) as client:
        with pytest.raises(APIError, match="HTTP 502: Bad gateway from the proxy") as caught:
            await client.agents.retrieve("agent_1")
    assert caught.value.response_data is None


async def test_invalid_json_on_success() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, text="<html>"))
    async with client_for(recorder) as client:
        with pytest.raises(APIError, match="Invalid JSON response"):
            await client.agents.retrieve("agent_1")


# --- pagination and models -------------------------------------------------------------------


def paged_route(total: int) -> Any:
    def route(request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params["page"]), int(request.url.params["pageSize"])
        start = (page - 1) * size
        items = [{**AGENT, "agentId": f"agent_{i}"} for i in range(start, min(start + size, total))]
        pages = -(-total // size)
        pagination = {
            "page": page,
            "pageSize": size,
            "totalItems": total,
            "totalPages": pages,
            "hasNextPage": page < pages,
            "hasPreviousPage": page > 1,
        }
        return httpx.Response(200, json={"items": items, "pagination": pagination})

    return route


async def test_page_is_a_mapping_and_auto_paging_walks_every_page() -> None:
    recorder = Recorder(paged_route(7))
    async with client_for(recorder) as client:
        page = await client.agents.list(page_size=3)
        assert isinstance(page, dict) and isinstance(page, AsyncPage)
        assert [a.agent_id for a in page["items"]] == ["agent_0", "agent_1", "agent_2"]
        assert page["pagination"]["totalPages"] == 3
        assert page.has_next_page()
        ids = [agent.agent_id async for agent in page.auto_paging_iter()]
    assert ids == [f"agent_{i}" for i in range(7)]
    assert [r.url.params["page"] for r in recorder.requests] == ["1", "2", "3"]
    assert all(r.url.params["pageSize"] == "3" for r in recorder.requests)


async def test_last_page_has_no_next() -> None:
    recorder = Recorder(paged_route(2))
    async with client_for(recorder) as client:
        page = await client.agents.list(page_size=5)
        assert not page.has_next_page()
        assert await page.get_next_page() is None
        assert [a.agent_id async for a in page.auto_paging_iter()] == ["agent_0", "agent_1"]
    assert len(recorder.requests) == 1


async def test_models_read_like_the_wire_dict() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={**AGENT, "futureField": [1]}))
    async with client_for(recorder) as client:
        agent = await client.agents.retrieve("agent_1")
    assert agent.agent_id == agent["agentId"] == agent["agent_id"] == "agent_1"
    assert agent["futureField"] == [1]  # unknown fields are kept
    assert "teamId" in agent and "lastRunAt" not in agent
    assert agent.get("lastRunAt") is None and agent.get("nope", 5) == 5
    with pytest.raises(KeyError):
        agent["lastRunAt"]
    assert agent.to_dict() == {**AGENT, "futureField": [1]}
    assert dict(agent) == agent.to_dict()


async def test_user_model_helpers() -> None:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok", "extensions": ["user-teams"]})
        if request.url.path == "/users/user_1/teams":
            team = {"teamId": "team_1", "name": "Core"}
            pagination = {"page": 1, "pageSize": 100, "hasNextPage": False}
            return httpx.Response(200, json={"items": [team], "pagination": pagination})
        if request.method == "PATCH":
            return httpx.Response(200, json={**USER, **json.loads(request.content)})
        return httpx.Response(200, json={**USER, "nickname": "Ada"})

    recorder = Recorder(route)
    async with client_for(recorder) as client:
        user = await client.users.retrieve("user_1")
        assert isinstance(user, UserAsyncModel)
        assert user.display_name() == "Ada" and user.has_nickname()
        assert user.formatted_created_at() == "2025-08-22 20:14:27"
        assert user.formatted_created_at("%Y") == "2025"
        assert not user.is_recent(days=1)
        same = await user.update_profile(nickname="Countess")
        assert same is user and user.nickname == "Countess" and user["nickname"] == "Countess"
        assert json.loads(recorder.last.content) == {"nickname": "Countess"}
        teams = await user.get_teams()
        assert [type(t) for t in teams] == [Team] and teams[0]["teamId"] == "team_1"
        await user.refresh()
        assert user.nickname == "Ada"


async def test_get_teams_without_the_extension_reads_the_memberships() -> None:
    memberships = [
        {"teamUserId": f"tu_{n}", "teamId": f"team_{n}", "userId": "user_1"} for n in (1, 2)
    ]

    def route(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/health":
            return httpx.Response(200, json={"status": "ok", "version": "x"})
        if path == "/team-users":
            assert request.url.params["userIds"] == "user_1"
            pagination = {"page": 1, "hasNextPage": False}
            return httpx.Response(200, json={"items": memberships, "pagination": pagination})
        if path == "/teams/team_1":
            return httpx.Response(200, json={"teamId": "team_1", "name": "Core"})
        if path == "/teams/team_2":  # a team this token cannot act in
            return httpx.Response(403, json={"error": {"message": "other team"}})
        return httpx.Response(200, json=USER)

    recorder = Recorder(route)
    async with client_for(recorder) as client:
        user = await client.users.retrieve("user_1")
        teams = await user.get_teams()
    assert [team.name for team in teams] == ["Core"]
    assert "/users/user_1/teams" not in [r.url.path for r in recorder.requests]


async def test_user_list_items_are_rich_models() -> None:
    body = {"items": [USER], "pagination": {"page": 1, "hasNextPage": False}}
    async with client_for(Recorder(lambda r: httpx.Response(200, json=body))) as client:
        page = await client.users.list()
    (user,) = page["items"]
    assert isinstance(user, UserAsyncModel)
    assert user.display_name() == "Ada Lovelace" and not user.has_nickname()


async def test_malformed_entity_is_an_api_error() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"name": "an agent without an id"}))
    async with client_for(recorder) as client:
        with pytest.raises(APIError, match="Unexpected Agent in the API response"):
            await client.agents.retrieve("agent_1")


async def test_a_model_built_by_hand_cannot_call_the_api() -> None:
    user = UserAsyncModel(user_id="user_1", full_name="Ada")
    assert user.display_name() == "Ada"
    with pytest.raises(RuntimeError, match="not returned by a client"):
        await user.refresh()
