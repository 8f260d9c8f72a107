"""Request options (``timeout=``, ``max_retries=``, ``extra_headers=``, ``extra_query=``,
``extra_body=``, ``idempotency_key=``) on the resource methods, against the real server: every
request the client sends is recorded by a transport wrapped around the real one."""

import contextlib
import json
import uuid
from typing import Any, Dict, List, Optional

import httpx
import pytest

from moderatelyai_sdk import (
    APIConnectionError,
    AsyncModeratelyAI,
    AsyncPage,
    AuthenticationError,
    ConflictError,
    ExecutionNotCancellableError,
    NotFoundError,
    ValidationError,
)
from moderatelyai_sdk import exceptions as public_exceptions

from ..configurations import ECHO

pytestmark = pytest.mark.anyio

# The options as keys of their own in a body, in either spelling: never sent.
OPTION_KEYS = {
    "timeout",
    "max_retries",
    "maxRetries",
    "extra_headers",
    "extraHeaders",
    "extra_query",
    "extraQuery",
    "extra_body",
    "extraBody",
    "idempotency_key",
    "idempotencyKey",
}


class RecordingTransport(httpx.AsyncBaseTransport):
    """The real transport; every request is noted first, and the next ``failures`` attempts are
    refused before they reach the server (to count retries)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: List[httpx.Request] = []
        self.failures = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            self.failures -= 1
            raise httpx.ConnectError("refused by the test", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Recorded:
    """A client whose requests go through a ``RecordingTransport``."""

    def __init__(self, credentials: Any, **overrides: Any) -> None:
        self.transport = RecordingTransport()
        self.http = httpx.AsyncClient(transport=self.transport)
        self.client = AsyncModeratelyAI(
            api_key=credentials.api_key,
            team_id=credentials.team_id,
            base_url=credentials.base_url,
            http_client=self.http,
            **overrides,
        )

    @property
    def requests(self) -> List[httpx.Request]:
        return self.transport.requests

    def take(self) -> List[httpx.Request]:
        """The requests recorded since the last ``take``."""
        taken = list(self.transport.requests)
        self.transport.requests.clear()
        return taken

    async def __aenter__(self) -> "Recorded":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.client.close()
        await self.http.aclose()


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def body_of(request: httpx.Request) -> Optional[Dict[str, Any]]:
    if not request.content:
        return None
    parsed: Dict[str, Any] = json.loads(request.content)
    return parsed


def timeout_of(request: httpx.Request) -> Dict[str, Optional[float]]:
    timeout: Dict[str, Optional[float]] = request.extensions["timeout"]
    return timeout


def assert_no_option_fields(requests: List[httpx.Request]) -> None:
    for request in requests:
        body = body_of(request)
        if body is not None:
            assert not OPTION_KEYS & set(body), (request.method, request.url.path, body)
        assert not {"timeout", "max_retries", "idempotency_key"} & set(request.url.params)


def the_one(requests: List[httpx.Request], method: str) -> httpx.Request:
    matching = [r for r in requests if r.method == method]
    assert len(matching) == 1, [(r.method, r.url.path) for r in requests]
    return matching[0]


# --- every option on create, update, retrieve, list and delete ---------------------------------


async def test_agent_calls_apply_every_option(fresh: Any) -> None:
    async with Recorded(fresh) as rec:
        client = rec.client
        agent = await client.agents.create(
            name=unique("Options"),
            description="named",
            timeout=7,
            max_retries=0,
            extra_headers={"X-Trace": "create"},
            extra_query={"trace": "q-create"},
            extra_body={"description": "from extra_body"},
            idempotency_key="options-create-" + uuid.uuid4().hex,
        )
        assert agent.description == "from extra_body"  # the server got extra_body, and it wins
        post = the_one(rec.take(), "POST")
        assert post.headers["x-trace"] == "create"
        assert post.url.params["trace"] == "q-create"
        assert post.url.params["teamIds"] == fresh.team_id  # added to, not replacing
        assert timeout_of(post) == {"connect": 7, "read": 7, "write": 7, "pool": 7}
        assert body_of(post) == {
            "name": agent.name,
            "teamId": fresh.team_id,
            "description": "from extra_body",
        }

        updated = await client.agents.update(
            agent.agent_id,
            name=agent.name + " v2",
            timeout=8,
            extra_headers={"X-Trace": "update"},
            extra_query={"trace": "q-update"},
            extra_body={"description": "patched by extra_body"},
        )
        assert (updated.name, updated.description) == (agent.name + " v2", "patched by extra_body")
        patch = the_one(rec.take(), "PATCH")
        assert (patch.headers["x-trace"], patch.url.params["trace"]) == ("update", "q-update")
        assert timeout_of(patch)["read"] == 8
        assert "idempotency-key" not in patch.headers

        got = await client.agents.retrieve(
            agent.agent_id, timeout=5, extra_headers={"X-Trace": "get"}, extra_query={"t": "1"}
        )
        assert got.agent_id == agent.agent_id
        get = the_one(rec.take(), "GET")
        assert (get.headers["x-trace"], get.url.params["t"]) == ("get", "1")
        assert timeout_of(get)["read"] == 5
        assert get.content == b""

        page = await client.agents.list(
            timeout=6, extra_headers={"X-Trace": "list"}, extra_query={"pageSize": 1}
        )
        assert len(page["items"]) == 1  # the server read the extra query parameter
        listed = the_one(rec.take(), "GET")
        assert listed.headers["x-trace"] == "list" and timeout_of(listed)["read"] == 6

        await client.agents.delete(
            agent.agent_id, timeout=4, extra_headers={"X-Trace": "delete"}, extra_query={"d": 1}
        )
        delete = the_one(rec.take(), "DELETE")
        assert (delete.headers["x-trace"], delete.url.params["d"]) == ("delete", "1")
        assert timeout_of(delete)["read"] == 4
        with pytest.raises(NotFoundError):
            await client.agents.retrieve(agent.agent_id)
        assert_no_option_fields(rec.requests)


async def test_extra_headers_replace_the_sdks_own(fresh: Any) -> None:
    async with Recorded(fresh) as rec:
        with pytest.raises(AuthenticationError):
            await rec.client.teams.retrieve(
                fresh.team_id, extra_headers={"Authorization": "Bearer not-a-key"}
            )
        assert rec.requests[-1].headers["authorization"] == "Bearer not-a-key"
        team = await rec.client.teams.retrieve(fresh.team_id)  # the client's key again
        assert team.team_id == fresh.team_id


async def test_idempotency_key_replays_the_first_create(fresh: Any) -> None:
    key = "options-idem-" + uuid.uuid4().hex
    name = unique("Idempotent")
    async with Recorded(fresh) as rec:
        first = await rec.client.pipelines.create(name=name, idempotency_key=key)
        again = await rec.client.pipelines.create(name=name, idempotency_key=key)
        assert again.pipeline_id == first.pipeline_id  # replayed: no duplicate-name conflict
        other = await rec.client.pipelines.create(name=unique("Idempotent"))
        posts = [r for r in rec.requests if r.method == "POST"]
        assert [p.headers["idempotency-key"] for p in posts[:2]] == [key, key]
        assert posts[2].headers["idempotency-key"] not in (key, "")
        page = await rec.client.pipelines.list(name_like="Idempotent", page_size=10)
        assert sorted(p.pipeline_id for p in page["items"]) == sorted(
            [first.pipeline_id, other.pipeline_id]
        )
        assert_no_option_fields(rec.requests)


async def test_pipeline_resources_take_the_options(fresh: Any) -> None:
    async with Recorded(fresh) as rec:
        client = rec.client
        pipeline = await client.pipelines.create(
            name=unique("Opts"), extra_body={"description": "from extra_body"}
        )
        assert pipeline.description == "from extra_body"
        pipeline = await client.pipelines.update(
            pipeline.pipeline_id, description="named", extra_headers={"X-Trace": "p-update"}
        )
        assert pipeline.description == "named"
        assert rec.requests[-1].headers["x-trace"] == "p-update"
        assert (await client.pipelines.retrieve(pipeline.pipeline_id, timeout=3)).pipeline_id
        assert timeout_of(rec.requests[-1])["read"] == 3

        versions = client.pipeline_configuration_versions
        version = await versions.create(
            pipeline_id=pipeline.pipeline_id,
            configuration=ECHO,
            extra_headers={"X-Trace": "v-create"},
            idempotency_key="options-version-" + uuid.uuid4().hex,
        )
        post = rec.requests[-1]
        assert post.headers["x-trace"] == "v-create"
        assert post.headers["idempotency-key"].startswith("options-version-")
        report = await versions.validate(ECHO, extra_query={"v": "1"}, timeout=9)
        assert report["valid"] and rec.requests[-1].url.params["v"] == "1"
        assert timeout_of(rec.requests[-1])["read"] == 9
        schema = await versions.get_schema(extra_headers={"X-Trace": "schema"})
        assert isinstance(schema, dict) and rec.requests[-1].headers["x-trace"] == "schema"
        clone = await versions.clone(version.configuration_version_id, timeout=4)
        assert clone.configuration_version_id != version.configuration_version_id
        assert timeout_of(rec.requests[-1])["read"] == 4
        page = await versions.list(pipeline_ids=[pipeline.pipeline_id], extra_query={"x": "y"})
        assert len(page["items"]) == 2 and rec.requests[-1].url.params["x"] == "y"
        await versions.delete(clone.configuration_version_id, extra_headers={"X-Trace": "v-del"})
        assert rec.requests[-1].method == "DELETE"
        assert rec.requests[-1].headers["x-trace"] == "v-del"

        executions = client.pipeline_executions
        execution = await executions.create(
            pipeline_configuration_version_id=version.configuration_version_id,
            pipeline_input={"user_input": "hi"},
            pipeline_input_summary="hi",
            extra_headers={"X-Trace": "e-create"},
            timeout=11,
        )
        assert rec.requests[-1].headers["x-trace"] == "e-create"
        assert timeout_of(rec.requests[-1])["read"] == 11
        got = await executions.retrieve(execution.execution_id, extra_query={"e": "1"})
        assert got.execution_id == execution.execution_id
        assert rec.requests[-1].url.params["e"] == "1"
        listed = await executions.list(pipeline_ids=[pipeline.pipeline_id], timeout=2)
        assert [e.execution_id for e in listed["items"]] == [execution.execution_id]
        assert timeout_of(rec.requests[-1])["read"] == 2
        await execution.wait_for_completion(timeout=60, poll_interval=0.2)
        output = await executions.get_output(
            execution.execution_id, extra_headers={"X-Trace": "output"}, timeout=13
        )
        assert output == {"echoed_message": "hi"}
        assert rec.requests[-1].url.path.endswith("/output")
        assert rec.requests[-1].headers["x-trace"] == "output"
        assert timeout_of(rec.requests[-1])["read"] == 13
        await client.pipelines.delete(pipeline.pipeline_id, extra_headers={"X-Trace": "p-del"})
        assert rec.requests[-1].headers["x-trace"] == "p-del"
        assert_no_option_fields(rec.requests)


async def test_agent_version_create_sends_the_options_to_both_requests(fresh: Any) -> None:
    async with Recorded(fresh) as rec:
        agent = await rec.client.agents.create(name=unique("Versioned"))
        before = await rec.client.agent_configuration_versions.list(agent_ids=[agent.agent_id])
        highest = max((v.version_number or 0 for v in before), default=0)
        rec.take()
        version = await rec.client.agent_configuration_versions.create(
            agent_id=agent.agent_id,
            instructions="Answer briefly.",
            extra_headers={"X-Trace": "version"},
            extra_query={"trace": "v"},
            extra_body={"systemPrompt": "from extra_body"},
            idempotency_key="options-agent-version-" + uuid.uuid4().hex,
            timeout=12,
        )
        assert version.version_number == highest + 1
        assert version.system_prompt == "from extra_body"
        lookup, post = rec.take()
        # The version-number lookup: headers, query and timeout, but no body and no key.
        assert (lookup.method, lookup.url.path) == ("GET", "/agent-configuration-versions")
        assert (lookup.headers["x-trace"], lookup.url.params["trace"]) == ("version", "v")
        assert timeout_of(lookup)["read"] == 12
        assert lookup.content == b"" and "idempotency-key" not in lookup.headers
        assert post.method == "POST" and post.headers["x-trace"] == "version"
        assert post.headers["idempotency-key"].startswith("options-agent-version-")
        assert (body_of(post) or {})["systemPrompt"] == "from extra_body"
        versions = await rec.client.agent_configuration_versions.list(
            agent_ids=[agent.agent_id], extra_headers={"X-Trace": "versions"}
        )
        assert version.agent_configuration_version_id in [
            v.agent_configuration_version_id for v in versions
        ]
        assert len(versions) == len(before) + 1
        assert rec.requests[-1].headers["x-trace"] == "versions"
        assert_no_option_fields(rec.requests)


# --- retries ----------------------------------------------------------------------------------


async def test_max_retries_is_per_call(fresh: Any, sleeps: List[float]) -> None:
    async with Recorded(fresh, max_retries=0) as rec:
        agent = await rec.client.agents.create(name=unique("Retry"))
        rec.take()
        rec.transport.failures = 2
        got = await rec.client.agents.retrieve(agent.agent_id, max_retries=2)
        assert got.agent_id == agent.agent_id
        assert len(rec.take()) == 3 and len(sleeps) == 2  # two refused, then the server's answer

        rec.transport.failures = 1
        with pytest.raises(APIConnectionError):
            await rec.client.agents.retrieve(agent.agent_id)  # the client's max_retries=0
        assert len(rec.take()) == 1

        rec.transport.failures = 1
        key = "options-retry-" + uuid.uuid4().hex
        team = await rec.client.teams.update(
            fresh.team_id, description="retried", max_retries=1, timeout=9
        )
        assert team.description == "retried"
        assert len(rec.take()) == 2
        rec.transport.failures = 1
        created = await rec.client.agents.create(
            name=unique("Retried"), max_retries=1, idempotency_key=key
        )
        attempts = rec.take()
        assert [a.headers["idempotency-key"] for a in attempts] == [key, key]
        page = await rec.client.agents.list(page_size=100)
        assert [a.agent_id for a in page["items"]].count(created.agent_id) == 1


# --- signatures at run time ---------------------------------------------------------------------


async def test_options_on_methods_without_kwargs_and_unknown_keywords(fresh: Any) -> None:
    async with Recorded(fresh) as rec:
        with pytest.raises(NotFoundError):  # a TypeError before the options were accepted
            await rec.client.agents.retrieve("x", timeout=5)
        assert timeout_of(rec.take()[0])["read"] == 5
        with pytest.raises(TypeError, match="bogus"):
            await rec.client.agents.retrieve("x", bogus=1)
        with pytest.raises(TypeError, match="bogus"):
            await rec.client.agents.list(bogus=1)
        with pytest.raises(TypeError, match="bogus"):
            await rec.client.pipelines.delete("x", bogus=1)
        assert rec.take() == []  # refused before any request


# --- lists: awaitable for the first page, iterable across pages -------------------------------


async def test_async_for_over_list_walks_every_page(fresh: Any) -> None:
    async with Recorded(fresh) as rec:
        client = rec.client
        created = [(await client.agents.create(name=f"Paged {i}")).agent_id for i in range(5)]
        rec.take()
        seen = [a.agent_id async for a in client.agents.list(page_size=2)]
        assert sorted(seen) == sorted(created)
        pages = rec.take()
        assert [r.url.params["page"] for r in pages] == ["1", "2", "3"]

        seen = []
        async for agent in client.agents.list(
            page_size=2, order_direction="asc", extra_headers={"X-Trace": "walk"}
        ).auto_paging_iter():
            seen.append(agent.agent_id)
        assert seen == created  # oldest first
        pages = rec.take()
        assert len(pages) == 3 and {r.headers["x-trace"] for r in pages} == {"walk"}

        page = await client.agents.list(page_size=2)
        assert isinstance(page, AsyncPage)
        assert len(page["items"]) == 2 and page["pagination"]["totalItems"] == 5
        assert page["items"] == page.data
        assert len(rec.take()) == 1  # awaiting fetches the first page only

        pipeline = await client.pipelines.create(name=unique("Paged"))
        for _ in range(3):
            await client.pipeline_configuration_versions.create(
                pipeline_id=pipeline.pipeline_id, configuration=ECHO
            )
        numbers = [
            v.version
            async for v in client.pipeline_configuration_versions.list(
                pipeline_ids=[pipeline.pipeline_id], page_size=1, order_by="version"
            )
        ]
        assert numbers == [1, 2, 3]


async def test_audit_log_lists_iterate_and_take_the_options(fresh: Any) -> None:
    async with Recorded(fresh) as rec:
        agent = await rec.client.agents.create(name=unique("Audited"))
        await rec.client.agents.update(agent.agent_id, description="changed")
        rec.take()
        entries = [
            e
            async for e in rec.client.audit_logs.list_for_entity(
                "agent", agent.agent_id, page_size=1, extra_headers={"X-Trace": "audit"}
            )
        ]
        assert len(entries) >= 2 and {e.resource_id for e in entries} == {agent.agent_id}
        requests = rec.take()
        assert len(requests) >= 2 and {r.headers["x-trace"] for r in requests} == {"audit"}
        one = await rec.client.audit_logs.retrieve(entries[0].audit_log_id, timeout=3)
        assert one.audit_log_id == entries[0].audit_log_id
        assert timeout_of(rec.take()[0])["read"] == 3


# --- cancelling a finished execution ----------------------------------------------------------


async def test_execution_not_cancellable_error_is_both() -> None:
    error = ExecutionNotCancellableError(request_id="req_1", execution_id="exe_1")
    assert isinstance(error, ConflictError) and isinstance(error, ValidationError)
    assert error.status_code == 409 and error.request_id == "req_1"
    assert error.details == {} and error.validation_details == []
    assert error.execution_id == "exe_1"
    assert "409" in str(error)
    assert public_exceptions.ExecutionNotCancellableError is ExecutionNotCancellableError


async def test_cancelling_a_finished_pipeline_execution(fresh: Any) -> None:
    async with Recorded(fresh) as rec:
        client = rec.client
        pipeline = await client.pipelines.create(name=unique("Cancel"))
        version = await client.pipeline_configuration_versions.create(
            pipeline_id=pipeline.pipeline_id, configuration=ECHO
        )
        execution = await client.pipeline_executions.create(
            pipeline_configuration_version_id=version.configuration_version_id,
            pipeline_input={"user_input": "hi"},
            pipeline_input_summary="hi",
        )
        # A worker may finish it first: then this cancel is refused as well.
        with contextlib.suppress(ExecutionNotCancellableError):
            await client.pipeline_executions.cancel(execution.execution_id, reason="first")
        with pytest.raises(ValidationError) as as_validation:  # what 0.2.7 documented
            await client.pipeline_executions.cancel(
                execution.execution_id, extra_headers={"X-Trace": "cancel"}
            )
        assert rec.requests[-1].headers["x-trace"] == "cancel"
        with pytest.raises(ConflictError) as as_conflict:  # what the server answers
            await client.pipeline_executions.cancel(execution.execution_id)
        for caught in (as_validation.value, as_conflict.value):
            assert isinstance(caught, ExecutionNotCancellableError)
            assert caught.status_code == 409 and caught.request_id
            assert caught.execution_id == execution.execution_id
            assert isinstance(caught.details, dict) and caught.response is not None
            assert "already" in caught.message
        model = await client.pipeline_executions.retrieve(execution.execution_id)
        assert model.is_terminal
        with pytest.raises(ValidationError):  # the model's cancel goes through the resource
            await model.cancel()
        with pytest.raises(NotFoundError):  # other errors stay what they were
            await client.pipeline_executions.cancel("pipeline_execution_missing")
        await client.pipelines.delete(pipeline.pipeline_id)
