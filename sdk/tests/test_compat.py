"""Call forms of moderatelyai-sdk 0.2.7 that user code relies on keep working.

Checked against the published 0.2.7 wheel: exception constructors (message first), their
attributes and string forms, the RetryConfig fields, and catching by the old base classes.
"""

import builtins

import pytest

from moderatelyai_sdk import (
    APIError,
    AuthenticationError,
    ConflictError,
    ModeratelyAIError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryConfig,
    TimeoutError,
    UnprocessableEntityError,
    ValidationError,
)


def test_base_error() -> None:
    error = ModeratelyAIError("boom", {"k": 1})
    assert (error.message, error.details, str(error)) == ("boom", {"k": 1}, "boom")
    assert ModeratelyAIError("x").details == {}


def test_api_error_positional_form() -> None:
    error = APIError("boom", 404, {"a": 1}, "req_1")
    assert (error.status_code, error.response_data, error.request_id) == (404, {"a": 1}, "req_1")
    assert error.body == {"a": 1}
    assert str(error) == "boom | Status: 404 | Request ID: req_1"
    assert str(APIError("plain")) == "plain"


@pytest.mark.parametrize(
    ("cls", "status", "default"),
    [
        (NotFoundError, 404, "Resource not found"),
        (ConflictError, 409, "Request conflicts with current state"),
        (UnprocessableEntityError, 422, "Unprocessable entity"),
        (AuthenticationError, 401, "Authentication failed"),
        (PermissionDeniedError, 403, "Permission denied"),
    ],
)
def test_fixed_status_errors(cls: type, status: int, default: str) -> None:
    assert cls().message == default
    error = cls("custom")
    assert error.message == "custom" and error.status_code == status
    assert isinstance(error, APIError) and isinstance(error, ModeratelyAIError)


def test_rate_limit_error() -> None:
    error = RateLimitError()
    assert (error.message, error.status_code, error.retry_after) == (
        "Rate limit exceeded",
        429,
        None,
    )
    assert RateLimitError("slow down", 30).retry_after == 30


def test_validation_error() -> None:
    details = [{"field": "name", "message": "required", "value": None}]
    error = ValidationError("bad", details)
    assert error.validation_details == details
    assert error.status_code == 400
    assert str(error).splitlines()[-1] == "  - name: required"
    assert ValidationError("bad").validation_details == []


def test_timeout_error_is_also_the_builtin() -> None:
    error = TimeoutError()
    assert error.message == "Request timed out"
    assert isinstance(error, builtins.TimeoutError) and isinstance(error, ModeratelyAIError)
    with pytest.raises(builtins.TimeoutError):
        raise TimeoutError("late")


def test_old_catch_clauses_still_catch() -> None:
    # 0.2.7 async users caught APIError for 401/403/400; sync users caught AuthenticationError.
    for error in (AuthenticationError(), PermissionDeniedError(), ValidationError("x")):
        assert isinstance(error, APIError)
    assert isinstance(PermissionDeniedError(), AuthenticationError)


def test_retry_config_fields_and_order() -> None:
    config = RetryConfig(5, 1.5, 30.0, [429, 503])
    assert (config.max_retries, config.backoff_factor, config.max_backoff) == (5, 1.5, 30.0)
    assert config.retryable_status_codes == [429, 503]
    assert RetryConfig().max_retries == 3
    with pytest.raises(ValueError):
        RetryConfig(max_retries=-1)
