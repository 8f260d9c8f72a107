"""Fault injection at the transport seam: what a real server can't be made to do on demand."""

import builtins
import email.utils
import json
import time
from typing import Any, Callable, Dict, List

import httpx
import pytest

from moderatelyai_sdk import (
    APIError,
    AsyncModeratelyAI,
    ConflictError,
    NotFoundError,
    RateLimitError,
    RetryConfig,
    TimeoutError,
)

pytestmark = pytest.mark.anyio

AGENT = {"agentId": "agent_1", "teamId": "team_1", "name": "Support", "description": None}
Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler, **options: Any) -> AsyncModeratelyAI:
    transport = httpx.MockTransport(handler)
    return AsyncModeratelyAI(
        api_key="test-key",
        team_id="team_1",
        base_url="http://api.test",
        http_client=httpx.AsyncClient(transport=transport),
        **options,
    )


def scripted(*steps: Any) -> Handler:
    """Answer (or raise) each step in turn; every request is recorded on ``handler.requests``."""
    requests: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        step = steps[len(requests) - 1]
        if isinstance(step, Exception):
            raise step
        return step

    handler.requests = requests  # type: ignore[attr-defined]
    return handler


def error(status: int, headers: Dict[str, str]) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": "try later"}}, headers=headers)


async def test_429_retry_after_seconds(sleeps: List[float]) -> None:
    handler = scripted(error(429, {"Retry-After": "7"}), httpx.Response(200, json=AGENT))
    async with client_for(handler) as client:
        agent = await client.agents.retrieve("agent_1")
    assert agent.agent_id == "agent_1"
    assert sleeps == [7.0]


async def test_429_retry_after_http_date(sleeps: List[float]) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    handler = scripted(error(429, {"Retry-After": when}), httpx.Response(200, json=AGENT))
    async with client_for(handler) as client:
        await client.agents.retrieve("agent_1")
    assert len(sleeps) == 1
    assert 25 <= sleeps[0] <= 30


async def test_retry_after_is_capped(sleeps: List[float]) -> None:
    handler = scripted(error(429, {"Retry-After": "3600"}), httpx.Response(200, json=AGENT))
    async with client_for(handler, retry_config=RetryConfig(max_backoff=5.0)) as client:
        await client.agents.retrieve("agent_1")
    assert sleeps == [5.0]


async def test_429_until_out_of_retries_raises_rate_limit(sleeps: List[float]) -> None:
    handler = scripted(*[error(429, {"Retry-After": "2", "X-Request-Id": "req_9"})] * 4)
    async with client_for(handler) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.agents.retrieve("agent_1")
    assert caught.value.retry_after == 2
    assert caught.value.status_code == 429
    assert caught.value.request_id == "req_9"
    assert len(handler.requests) == 4  # type: ignore[attr-defined]
    assert sleeps == [2.0, 2.0, 2.0]


async def test_503_then_success_backs_off_exponentially(sleeps: List[float]) -> None:
    handler = scripted(
        error(503, {}), error(502, {}), error(500, {}), httpx.Response(200, json=AGENT)
    )
    async with client_for(handler) as client:
        agent = await client.agents.retrieve("agent_1")
    assert agent.name == "Support"
    # backoff_factor 2: 1, 2, 4 seconds, each less up to 25% jitter
    assert len(sleeps) == 3
    for waited, full in zip(sleeps, [1.0, 2.0, 4.0]):
        assert 0.75 * full <= waited <= full


@pytest.mark.parametrize(
    ("status", "headers"),
    [(408, {}), (409, {"Retry-After": "1"}), (409, {"X-Should-Retry": "true"})],
)
async def test_408_and_transient_409_are_retried(
    status: int, headers: Dict[str, str], sleeps: List[float]
) -> None:
    handler = scripted(error(status, headers), httpx.Response(200, json=AGENT))
    async with client_for(handler) as client:
        await client.agents.retrieve("agent_1")
    assert len(sleeps) == 1


async def test_final_409_is_raised_at_once(sleeps: List[float]) -> None:
    body = {"error": {"message": "an agent named 'Support' already exists"}}
    handler = scripted(httpx.Response(409, json=body))
    async with client_for(handler) as client:
        with pytest.raises(ConflictError, match="already exists"):
            await client.agents.create(name="Support")
    assert sleeps == []


async def test_409_listed_explicitly_is_always_retried(sleeps: List[float]) -> None:
    handler = scripted(error(409, {}), httpx.Response(201, json=AGENT))
    config = RetryConfig(retryable_status_codes=[409])
    async with client_for(handler, retry_config=config) as client:
        await client.agents.create(name="Support")
    assert len(sleeps) == 1


async def test_server_hint_stops_retries(sleeps: List[float]) -> None:
    handler = scripted(error(503, {"X-Should-Retry": "false", "Retry-After": "1"}))
    async with client_for(handler) as client:
        with pytest.raises(APIError, match="try later"):
            await client.agents.create(name="Support")
    assert sleeps == []


async def test_404_is_not_retried(sleeps: List[float]) -> None:
    handler = scripted(httpx.Response(404, json={"error": {"message": "Agent not found"}}))
    async with client_for(handler) as client:
        with pytest.raises(NotFoundError, match="Agent not found"):
            await client.agents.retrieve("agent_1")
    assert sleeps == []


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("connection refused"), httpx.ReadError("connection reset by peer")],
)
async def test_connection_reset_then_success(failure: Exception, sleeps: List[float]) -> None:
    handler = scripted(failure, httpx.Response(200, json=AGENT))
    async with client_for(handler) as client:
        agent = await client.agents.retrieve("agent_1")
    assert agent.agent_id == "agent_1"
    assert len(sleeps) == 1


async def test_read_timeout_every_time_raises_sdk_timeout(sleeps: List[float]) -> None:
    handler = scripted(*[httpx.ReadTimeout("timed out")] * 4)
    async with client_for(handler) as client:
        with pytest.raises(TimeoutError, match="timed out after 4 attempt") as caught:
            await client.agents.retrieve("agent_1")
    assert isinstance(caught.value, builtins.TimeoutError)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert len(sleeps) == 3


async def test_connection_failure_every_time_raises_sdk_timeout(sleeps: List[float]) -> None:
    handler = scripted(*[httpx.ConnectError("refused")] * 2)
    async with client_for(handler, max_retries=1) as client:
        with pytest.raises(TimeoutError, match="failed after 2 attempt"):
            await client.teams.list()
    assert len(sleeps) == 1


async def test_post_retries_reuse_one_idempotency_key(sleeps: List[float]) -> None:
    handler = scripted(
        httpx.ReadError("connection reset by peer"),
        error(503, {"Retry-After": "1"}),
        httpx.Response(201, json=AGENT),
    )
    async with client_for(handler) as client:
        await client.agents.create(name="Support")
    requests: List[httpx.Request] = handler.requests  # type: ignore[attr-defined]
    keys = [r.headers.get("Idempotency-Key") for r in requests]
    assert len(keys) == 3
    assert keys[0] and keys[0] == keys[1] == keys[2]
    assert all(json.loads(r.content) == json.loads(requests[0].content) for r in requests)


async def test_new_post_gets_a_new_idempotency_key() -> None:
    handler = scripted(httpx.Response(201, json=AGENT), httpx.Response(201, json=AGENT))
    async with client_for(handler) as client:
        await client.agents.create(name="One")
        await client.agents.create(name="Two")
    first, second = handler.requests  # type: ignore[attr-defined]
    assert first.headers["Idempotency-Key"] != second.headers["Idempotency-Key"]


async def test_only_posts_carry_an_idempotency_key() -> None:
    handler = scripted(httpx.Response(200, json=AGENT), httpx.Response(200, json=AGENT))
    async with client_for(handler) as client:
        await client.agents.retrieve("agent_1")
        await client.agents.update("agent_1", name="Renamed")
    assert all("Idempotency-Key" not in r.headers for r in handler.requests)  # type: ignore[attr-defined]


async def test_max_retries_zero_makes_one_attempt(sleeps: List[float]) -> None:
    handler = scripted(error(503, {}))
    async with client_for(handler, max_retries=0) as client:
        with pytest.raises(APIError, match="try later"):
            await client.agents.retrieve("agent_1")
    assert sleeps == []


async def test_with_options_overrides_retries_for_one_call(sleeps: List[float]) -> None:
    handler = scripted(error(503, {}), error(503, {}), httpx.Response(200, json=AGENT))
    async with client_for(handler) as client:
        with pytest.raises(APIError, match="try later"):
            await client.with_options(max_retries=0).agents.retrieve("agent_1")
        await client.agents.retrieve("agent_1")  # the original keeps its three retries
    assert len(sleeps) == 1


async def test_custom_retryable_status_codes(sleeps: List[float]) -> None:
    config = RetryConfig(max_retries=2, retryable_status_codes=[418])
    handler = scripted(error(418, {}), httpx.Response(200, json=AGENT))
    async with client_for(handler, retry_config=config) as client:
        await client.agents.retrieve("agent_1")
    handler = scripted(error(503, {}))
    async with client_for(handler, retry_config=config) as client:
        with pytest.raises(APIError, match="try later"):
            await client.agents.retrieve("agent_1")
    assert len(sleeps) == 1
