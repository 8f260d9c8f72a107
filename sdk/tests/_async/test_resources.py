"""Every resource method against the real server (SQLite and PostgreSQL), through the client."""

import uuid
from typing import Any, List, Optional

import httpx
import pytest

from moderatelyai_sdk import (
    Agent,
    AsyncModeratelyAI,
    AsyncPage,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    Team,
    UserAsyncModel,
    ValidationError,
)

pytestmark = pytest.mark.anyio


def connect(credentials: Any, **overrides: Any) -> AsyncModeratelyAI:
    options = {
        "api_key": credentials.api_key,
        "team_id": credentials.team_id,
        "base_url": credentials.base_url,
        **overrides,
    }
    return AsyncModeratelyAI(**options)


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


# --- users ------------------------------------------------------------------------------------


async def test_users_list_and_retrieve(fresh: Any) -> None:
    async with connect(fresh) as client:
        page = await client.users.list()
        assert isinstance(page, AsyncPage)
        assert [u.user_id for u in page["items"]] == [fresh.user_id]
        assert page["pagination"]["totalItems"] == 1
        user = await client.users.retrieve(fresh.user_id)
    assert isinstance(user, UserAsyncModel)
    assert user.user_id == user["userId"] == fresh.user_id
    assert user.full_name and user.display_name() == user.full_name
    assert user.formatted_created_at() != user.created_at  # the server's timestamps parse
    assert user.is_recent()


async def test_users_update_and_model_helpers(fresh: Any) -> None:
    async with connect(fresh) as client:
        user = await client.users.update(fresh.user_id, full_name="Grace Hopper")
        assert user.full_name == "Grace Hopper"
        same = await user.update_profile(nickname="Amazing Grace")
        assert same is user
        assert (user.full_name, user.nickname) == ("Grace Hopper", "Amazing Grace")
        assert user.display_name() == "Amazing Grace" and user.has_nickname()
        reread = await client.users.retrieve(fresh.user_id)
        assert reread.nickname == "Amazing Grace"
        await client.users.update(fresh.user_id, full_name="Rear Admiral Hopper")
        assert (await user.refresh()).full_name == "Rear Admiral Hopper"
        teams = await user.get_teams()
    assert [t.team_id for t in teams] == [fresh.team_id]
    assert all(isinstance(t, Team) for t in teams)


async def test_user_of_another_team_is_not_found(fresh: Any, outsider: Any) -> None:
    async with connect(fresh) as client:
        with pytest.raises(NotFoundError):
            await client.users.retrieve(outsider.user_id)


# --- teams ------------------------------------------------------------------------------------


async def test_teams_crud(server: Any, fresh: Any) -> None:
    async with connect(fresh) as client:
        page = await client.teams.list()
        assert [t.team_id for t in page["items"]] == [fresh.team_id]  # scoped by teamIds
        own = await client.teams.retrieve(fresh.team_id)
        assert own.team_id == own["teamId"] == fresh.team_id

        created = await client.teams.create(name=unique("Research"), description="Papers")
        assert isinstance(created, Team)
        assert created.description == "Papers"
        # a token acts in its own team only: the new team needs a token of its own
        with pytest.raises(NotFoundError):
            await client.teams.update(created.team_id, name="Research Lab")
    in_new_team = server.create_token(fresh.user_id, team_id=created.team_id)
    async with connect(in_new_team) as client:
        renamed = await client.teams.update(created.team_id, name="Research Lab")
        assert (renamed.name, renamed.description) == ("Research Lab", "Papers")
        described = await client.teams.update(created.team_id, description="Labs")
        assert (described.name, described.description) == ("Research Lab", "Labs")
        assert (await client.teams.retrieve(created.team_id)).description == "Labs"

        assert await client.teams.delete(created.team_id) is None
    async with connect(fresh) as client:
        with pytest.raises(NotFoundError):
            await client.teams.retrieve(created.team_id)


async def test_team_of_another_user_is_not_found(fresh: Any, outsider: Any) -> None:
    async with connect(fresh) as client:
        for call in (
            lambda: client.teams.retrieve(outsider.team_id),
            lambda: client.teams.update(outsider.team_id, name="Mine now"),
            lambda: client.teams.delete(outsider.team_id),
        ):
            with pytest.raises(NotFoundError):
                await call()


# --- agents -----------------------------------------------------------------------------------


async def test_agents_crud(fresh: Any) -> None:
    async with connect(fresh) as client:
        agent = await client.agents.create(name="Support", description="Answers questions")
        assert isinstance(agent, Agent)
        assert (agent.name, agent.description, agent.team_id) == (
            "Support",
            "Answers questions",
            fresh.team_id,
        )
        assert agent["agentId"] == agent.agent_id

        fetched = await client.agents.retrieve(agent.agent_id)
        assert fetched.agent_id == agent.agent_id and fetched.name == "Support"

        updated = await client.agents.update(agent.agent_id, name="Helpdesk")
        assert (updated.name, updated.description) == ("Helpdesk", "Answers questions")
        updated = await client.agents.update(agent.agent_id, description="Triage")
        assert (updated.name, updated.description) == ("Helpdesk", "Triage")

        page = await client.agents.list()
        assert [a.agent_id for a in page["items"]] == [agent.agent_id]

        assert await client.agents.delete(agent.agent_id) is None
        with pytest.raises(NotFoundError):
            await client.agents.retrieve(agent.agent_id)
        assert (await client.agents.list())["items"] == []


async def test_agent_create_in_an_explicit_team(fresh: Any) -> None:
    async with connect(fresh) as client:
        agent = await client.agents.create(name="Here", team_id=fresh.team_id)
        assert agent.team_id == fresh.team_id
        # another team of the same user: the token is bound to its own team
        team = await client.teams.create(name=unique("Second"))
        with pytest.raises(PermissionDeniedError) as refused:
            await client.agents.create(name="Elsewhere", team_id=team.team_id)
        assert "cannot act in" in str(refused.value)
        assert [a.name for a in (await client.agents.list())["items"]] == ["Here"]


async def test_pagination_walks_every_page(fresh: Any) -> None:
    async with connect(fresh) as client:
        created = [(await client.agents.create(name=f"agent-{i}")).agent_id for i in range(7)]
        page = await client.agents.list(page_size=3, order_by="name", order_direction="asc")
        assert page["pagination"]["totalItems"] == 7
        assert page["pagination"]["totalPages"] == 3
        assert page["pagination"]["hasNextPage"] is True
        assert [a.name for a in page["items"]] == ["agent-0", "agent-1", "agent-2"]
        names = [a.name async for a in page.auto_paging_iter()]
        assert names == [f"agent-{i}" for i in range(7)]

        newest_first = await client.agents.list(page_size=2)  # created_at desc by default
        ids = [a.agent_id async for a in newest_first.auto_paging_iter()]
        assert ids == list(reversed(created))

        last: Optional[AsyncPage[Agent]] = await client.agents.list(page=5, page_size=2)
        assert last is not None and last["items"] == [] and not last.has_next_page()


async def test_users_pagination(fresh: Any, server: Any) -> None:
    for i in range(2):
        server.create_user(f"member-{i}-{uuid.uuid4().hex[:6]}@example.com", team_id=fresh.team_id)
    async with connect(fresh) as client:
        page = await client.users.list(page_size=1, order_by="created_at", order_direction="asc")
        users: List[UserAsyncModel] = [u async for u in page.auto_paging_iter()]
    assert len(users) == 3 and users[0].user_id == fresh.user_id
    assert all(isinstance(u, UserAsyncModel) for u in users)


# --- errors -----------------------------------------------------------------------------------


async def test_not_found_carries_message_and_request_id(fresh: Any) -> None:
    async with connect(fresh) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.agents.retrieve("no-such-agent")
    error = caught.value
    assert error.status_code == 404
    assert error.message and error.message != "HTTP 404"  # the server's own words
    assert error.request_id
    assert error.response is not None
    assert error.request_id == error.response.headers["X-Request-Id"]
    assert error.body["error"]["code"]


async def test_validation_error_carries_details(fresh: Any) -> None:
    async with connect(fresh) as client:
        with pytest.raises(ValidationError) as caught:
            await client.agents.list(page_size=5000)
    assert caught.value.status_code == 400
    assert caught.value.validation_details
    assert any("pageSize" in str(d.get("field")) for d in caught.value.validation_details)
    assert caught.value.request_id


async def test_bad_api_key_is_an_authentication_error(admin: Any) -> None:
    async with connect(admin, api_key="mai_not-a-real-token") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.agents.list()
    assert caught.value.status_code == 401


async def test_foreign_team_ids_never_return_data(fresh: Any, outsider: Any) -> None:
    async with connect(fresh, team_id=outsider.team_id) as client:
        with pytest.raises((PermissionDeniedError, NotFoundError)):
            await client.agents.list()


async def test_duplicate_agent_name_is_a_conflict(fresh: Any, sleeps: List[float]) -> None:
    async with connect(fresh) as client:
        await client.agents.create(name="Twin")
        with pytest.raises(ConflictError) as caught:
            await client.agents.create(name="Twin")
        assert len((await client.agents.list())["items"]) == 1
    assert caught.value.status_code == 409
    assert "Twin" in caught.value.message
    assert sleeps == []  # a final conflict is not retried


async def test_another_teams_agent_is_not_found(fresh: Any, outsider: Any) -> None:
    async with connect(outsider) as owner:
        theirs = await owner.agents.create(name=unique("Private"))
    async with connect(fresh) as client:
        with pytest.raises(NotFoundError):
            await client.agents.retrieve(theirs.agent_id)
        with pytest.raises(NotFoundError):
            await client.agents.update(theirs.agent_id, name="Stolen")
        with pytest.raises(NotFoundError):
            await client.agents.delete(theirs.agent_id)
    async with connect(outsider) as owner:
        assert (await owner.agents.retrieve(theirs.agent_id)).name == theirs.name


# --- retries against the real server ----------------------------------------------------------


class LoseFirstPostResponse(httpx.AsyncBaseTransport):
    """Deliver the first POST to the server, then drop its answer as if the connection reset."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.posts: List[httpx.Request] = []
        self.statuses: List[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST":
            self.posts.append(request)
            self.statuses.append(response.status_code)
            if len(self.posts) == 1:
                await response.aread()
                await response.aclose()
                raise httpx.ReadError("connection reset by peer", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_retried_post_creates_once(fresh: Any, sleeps: List[float]) -> None:
    transport = LoseFirstPostResponse()
    http = httpx.AsyncClient(transport=transport)
    async with connect(fresh, http_client=http) as client:
        agent = await client.agents.create(name="Exactly once")
        page = await client.agents.list()
    await http.aclose()
    # A retry that lands while the server is still finishing the first attempt is answered
    # 409 "key in use" with Retry-After, and retried again: 2 or 3 POSTs, one key, one agent.
    assert len(transport.posts) in (2, 3) and len(sleeps) == len(transport.posts) - 1
    assert set(transport.statuses[1:-1]) <= {409} and transport.statuses[-1] == 201
    assert len({r.headers["Idempotency-Key"] for r in transport.posts}) == 1
    assert [a.agent_id for a in page["items"]] == [agent.agent_id]
