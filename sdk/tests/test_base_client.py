"""The shared no-I/O core: pure functions, tested without any transport."""

import email.utils
from typing import Any, Dict

import httpx
import pytest

from moderatelyai_sdk import APIError, RateLimitError, RetryConfig, ValidationError
from moderatelyai_sdk._base_client import (
    camel,
    encode_query,
    error_from_response,
    list_query,
    make_body,
    next_page_params,
    parse_retry_after,
    path_param,
    prepare_request,
    resolve_settings,
    retry_delay,
    should_retry,
)

NOW = 1_700_000_000.0


def settings(**overrides: Any) -> Any:
    options: Dict[str, Any] = {
        "api_key": "k",
        "team_id": "t",
        "base_url": "http://x/",
        "default_headers": None,
        "default_query": None,
    }
    options.update(overrides)
    return resolve_settings(**options)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        (email.utils.formatdate(NOW + 42, usegmt=True), 42.0),
        (email.utils.formatdate(NOW - 42, usegmt=True), 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: Any, expected: Any) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_retry_delay_backoff_with_jitter_and_cap() -> None:
    config = RetryConfig(backoff_factor=2.0, max_backoff=5.0)
    for attempt, full in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 5.0), (10, 5.0)]:
        delays = {retry_delay(attempt, None, config) for _ in range(50)}
        assert all(0.75 * full <= d <= full for d in delays)
        assert len(delays) > 1  # jittered


def test_retry_delay_prefers_retry_after_capped() -> None:
    config = RetryConfig(max_backoff=10.0)
    assert retry_delay(0, httpx.Response(429, headers={"Retry-After": "3"}), config) == 3.0
    assert retry_delay(0, httpx.Response(503, headers={"Retry-After": "99"}), config) == 10.0


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (408, {}, True),
        (409, {}, False),  # a final conflict
        (409, {"Retry-After": "1"}, True),  # e.g. an Idempotency-Key still in progress
        (429, {}, True),
        (500, {}, True),
        (503, {}, True),
        (400, {}, False),
        (404, {}, False),
        (503, {"X-Should-Retry": "false"}, False),
        (400, {"X-Should-Retry": "true"}, True),
    ],
)
def test_should_retry(status: int, headers: Dict[str, str], expected: bool) -> None:
    assert should_retry(httpx.Response(status, headers=headers), RetryConfig()) is expected


def test_should_retry_custom_codes() -> None:
    config = RetryConfig(retryable_status_codes=[429])
    assert should_retry(httpx.Response(429), config)
    assert not should_retry(httpx.Response(503), config)


@pytest.mark.parametrize(
    ("pagination", "count", "expected"),
    [
        ({"page": 1, "hasNextPage": True}, 10, 2),
        ({"page": 3, "hasNextPage": False, "totalPages": 9}, 10, None),
        ({"page": 1, "totalPages": 2}, 10, 2),  # older servers: fall back to totals
        ({"page": 2, "totalPages": 2}, 10, None),
        ({"page": 1, "hasNextPage": True}, 0, None),  # an empty page never loops
        ({}, 10, None),
        (None, 10, None),
    ],
)
def test_next_page_params(pagination: Any, count: int, expected: Any) -> None:
    result = next_page_params({"page": 1, "pageSize": 10}, pagination, count)
    assert (result["page"] if result else None) == expected
    if result:
        assert result["pageSize"] == 10


def test_encode_query() -> None:
    query = {"ids": ["a", "b"], "one": ["x"], "none": None, "flag": False, "n": 3, "empty": []}
    assert encode_query(query) == {"ids": "a,b", "one": "x", "flag": "false", "n": "3"}


def test_sort_values_and_keys_to_camel_case() -> None:
    assert camel("created_at") == "createdAt"
    assert camel("createdAt") == "createdAt"
    assert camel("full_name") == "fullName"
    assert list_query(page=1, page_size=5, order_by="updated_at", order_direction="asc") == {
        "page": 1,
        "pageSize": 5,
        "orderBy": "updatedAt",
        "orderDirection": "asc",
    }
    assert make_body({"name": "n", "description": None}, {"team_id": "t", "is_x": None}) == {
        "name": "n",
        "teamId": "t",
        "isX": None,
    }


def test_path_param() -> None:
    assert path_param("abc_-123", "x") == "abc_-123"
    assert path_param("a/b", "x") == "a%2Fb"
    with pytest.raises(ValueError, match="`agent_id`"):
        path_param("", "agent_id")


def test_prepare_request() -> None:
    config = settings(default_query={"teamIds": ["t", "u"]})
    get = prepare_request(config, "GET", "/agents", query={"page": 2})
    assert get.url == "http://x/agents"
    assert get.params == {"teamIds": "t,u", "page": "2"}
    assert "Idempotency-Key" not in get.headers
    post1 = prepare_request(config, "POST", "agents", body={"name": "n"})
    post2 = prepare_request(config, "POST", "agents", body={"name": "n"})
    assert post1.headers["Idempotency-Key"] != post2.headers["Idempotency-Key"]
    assert "Idempotency-Key" not in config.headers  # shared headers are never mutated


def test_error_reads_envelope_and_falls_back() -> None:
    both = {
        "error": {
            "message": "inner",
            "details": [{"field": "f", "message": "m"}],
            "requestId": "r",
        },
        "message": "outer",
    }
    error = error_from_response(httpx.Response(400, json=both))
    assert (
        isinstance(error, ValidationError) and error.message == "inner" and error.request_id == "r"
    )
    top_only = error_from_response(httpx.Response(400, json={"message": "outer", "details": ["x"]}))
    assert isinstance(top_only, ValidationError)
    assert top_only.validation_details == [{"message": "x"}]
    framework = error_from_response(httpx.Response(405, json={"detail": "Method Not Allowed"}))
    assert type(framework) is APIError and framework.message == "Method Not Allowed"
    bare = error_from_response(httpx.Response(500, json=["odd"]))
    assert bare.message == 'HTTP 500: ["odd"]' and bare.response_data == ["odd"]


def test_rate_limit_error_retry_after() -> None:
    error = error_from_response(httpx.Response(429, headers={"Retry-After": "1.2"}))
    assert isinstance(error, RateLimitError) and error.retry_after == 2
    assert error_from_response(httpx.Response(429)).retry_after is None  # type: ignore[attr-defined]
