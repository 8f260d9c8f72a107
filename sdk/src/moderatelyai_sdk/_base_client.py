"""Shared client core: every decision that needs no I/O.

The async request loop (``_async/_client.py``) and its generated sync twin only send, sleep and
raise. Building requests, choosing whether and how long to wait before a retry, reading error
bodies and computing the next page all live here, once, as plain functions.
"""

import dataclasses
import email.utils
import functools
import math
import os
import random
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple, Type, Union
from urllib.parse import quote

import httpx
from typing_extensions import TypedDict

from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    ExecutionNotCancellableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    ValidationError,
)
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "RequestOptions",
    "RetryConfig",
]

DEFAULT_BASE_URL = "https://api.moderately.ai"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_RETRIES = 3
USER_AGENT = f"moderatelyai-python/{__version__}"

TimeoutTypes = Union[float, httpx.Timeout, None]
Query = Mapping[str, object]

# Transport failures worth another attempt: timeouts, refused/reset connections, and a server that
# hung up without answering. POSTs are safe to repeat because they carry an Idempotency-Key.
RETRYABLE_TRANSPORT_ERRORS: Tuple[Type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


class _NotGiven:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()  # "keep the current value" where None means something


class RequestOptions(TypedDict, total=False):
    """Options of one call, accepted as keyword arguments by every method of both clients.

    They change how the request is sent and are never sent as API fields::

        client.agents.retrieve(agent_id, timeout=5, max_retries=0)
        client.agents.create(name="x", extra_headers={"X-Trace": "1"}, extra_body={"beta": 1})

    A method that makes several requests (an upload: create, transfer, complete) applies them to
    each; ``extra_body`` goes to the JSON bodies of its API requests, never to stored bytes.
    """

    timeout: Union[float, httpx.Timeout, None]
    """Seconds (or an ``httpx.Timeout``) for this call instead of the client's."""
    max_retries: int
    """Retries after the first attempt for this call instead of the client's."""
    extra_headers: Mapping[str, str]
    """Headers added to (or replacing) the SDK's; presigned storage transfers do not get them."""
    extra_query: Mapping[str, object]
    """Query parameters added to the API requests."""
    extra_body: Mapping[str, Any]
    """Fields merged into the JSON body of the API requests that send one (POST, PATCH), as
    given (no camelCasing)."""
    idempotency_key: str
    """The ``Idempotency-Key`` of a POST (one is made up for each POST otherwise)."""


class PollingOptions(TypedDict, total=False):
    """The request options of a method whose own ``timeout=`` bounds a whole wait
    (``wait_for_completion``, ``tail``): all but ``timeout``, applied to each poll. A timeout per
    poll comes from ``client.with_options(timeout=...)``."""

    max_retries: int
    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, object]
    extra_body: Mapping[str, Any]
    idempotency_key: str


OPTION_NAMES = frozenset(RequestOptions.__annotations__)


def lookup_options(options: RequestOptions) -> RequestOptions:
    """The options of a GET that a method makes before its own request (the next version
    number, the current version): all but ``extra_body`` and ``idempotency_key``, which belong
    to the request the method is for."""
    kept = RequestOptions(**options)
    kept.pop("extra_body", None)
    kept.pop("idempotency_key", None)
    return kept


def follow_up_options(options: RequestOptions) -> RequestOptions:
    """The options of a POST after a method's first one (an upload's ``.../complete``): all but
    the ``idempotency_key``, which names the first POST only (a key reused for another request
    is refused)."""
    kept = RequestOptions(**options)
    kept.pop("idempotency_key", None)
    return kept


def cleanup_options(options: RequestOptions) -> RequestOptions:
    """The options of a best-effort DELETE after a failure: as a lookup's, one attempt."""
    kept = lookup_options(options)
    kept["max_retries"] = 0
    return kept


def split_options(kwargs: Dict[str, Any]) -> Tuple[RequestOptions, Dict[str, Any]]:
    """Separate the request options from a method's ``**kwargs`` of API fields."""
    if not kwargs or OPTION_NAMES.isdisjoint(kwargs):
        return {}, kwargs
    options: Dict[str, Any] = {}
    fields: Dict[str, Any] = {}
    for key, value in kwargs.items():
        (options if key in OPTION_NAMES else fields)[key] = value
    return RequestOptions(**options), fields  # type: ignore[typeddict-item]


def check_options(options: Mapping[str, Any]) -> None:
    """Refuse a keyword that is not a request option (``**options`` takes anything at run
    time; the type checker already refuses it)."""
    unknown = set(options) - OPTION_NAMES
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TypeError(
            f"unexpected keyword argument(s): {names}; the request options are "
            + ", ".join(sorted(OPTION_NAMES))
        )


# Extensions of the published API this server offers, by the name ``GET /health`` lists them
# under ``extensions`` (docs/reference/api.md, Extensions).
EXTENSION_SCHEMA_INFERENCE = "dataset-schema-inference"  # POST /dataset-schema-versions/infer
EXTENSION_FILE_UPDATE = "file-update"  # PATCH /files/{fileId}
EXTENSION_USER_TEAMS = "user-teams"  # GET /users/{userId}/teams
EXTENSION_TEAM_DELETE = "team-delete"  # DELETE /teams/{teamId}
EXTENSION_AGENT_EXECUTION_CONTROL = "agent-execution-control"  # cancel, pause, resume, delete


def request_id_of(response: Optional[httpx.Response]) -> Optional[str]:
    """The server's ``X-Request-Id`` of a response (``None`` without one)."""
    if response is None:
        return None
    request_id: Optional[str] = response.headers.get("x-request-id")
    return request_id


def missing_extension(error: NotFoundError, extension: str, operation: str) -> NotFoundError:
    """The 404 of an operation that only an extension offers, on a server without it: says so
    (the server's own answer reads like an unknown id)."""
    return NotFoundError(
        f"This server does not offer {operation}: it belongs to the {extension!r} extension of "
        "the moderately server, which this server does not list in GET /health "
        f"({error.message})",
        response_data=error.response_data,
        request_id=error.request_id,
        response=error.response,
    )


@dataclass
class RetryConfig:
    """How failed requests are retried (both clients).

    Attributes:
        max_retries: Retries after the first attempt (up to ``max_retries + 1`` attempts).
        backoff_factor: The n-th retry (n from 0) waits about ``backoff_factor ** n`` seconds,
            less up to 25% jitter.
        max_backoff: Upper bound in seconds for any wait, including a server's ``Retry-After``.
        retryable_status_codes: Statuses to retry. ``None`` means 408, 429, every 5xx, and a 409
            that carries ``Retry-After`` (a final conflict such as a duplicate name is raised at
            once). A server's ``X-Should-Retry: true|false`` header overrides either way.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_factor: float = 2.0
    max_backoff: float = 60.0
    retryable_status_codes: Optional[List[int]] = None

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff_factor < 0 or self.max_backoff < 0:
            raise ValueError("RetryConfig values must not be negative")


@dataclass(frozen=True)
class ClientSettings:
    """What every request of one client shares, computed once at construction."""

    api_key: str
    team_id: str
    base_url: str
    headers: Dict[str, str]
    query: Dict[str, str]


class PreparedRequest(NamedTuple):
    method: str
    url: str
    params: Dict[str, str]
    headers: Dict[str, str]
    json: Any


def _env(name: str) -> Optional[str]:
    return os.environ.get(name) or None  # an empty variable counts as unset


def resolve_settings(
    *,
    api_key: Optional[str],
    team_id: Optional[str],
    base_url: Optional[str],
    default_headers: Optional[Mapping[str, str]],
    default_query: Optional[Query],
) -> ClientSettings:
    """Arguments first, then ``MODERATELY_*`` environment variables, then defaults."""
    api_key = api_key or _env("MODERATELY_API_KEY")
    if api_key is None:
        raise ValueError("API key is required: pass api_key= or set MODERATELY_API_KEY")
    team_id = team_id or _env("MODERATELY_TEAM_ID")
    if team_id is None:
        raise ValueError("Team ID is required: pass team_id= or set MODERATELY_TEAM_ID")
    base_url = (base_url or _env("MODERATELY_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Accept": "application/json",
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **(default_headers or {}),
    }
    query = {"teamIds": team_id, **encode_query(default_query)}
    return ClientSettings(api_key, team_id, base_url, headers, query)


def resolve_timeout(timeout: TimeoutTypes, fallback: Optional[httpx.Timeout]) -> httpx.Timeout:
    if timeout is None:
        return fallback if fallback is not None else DEFAULT_TIMEOUT
    return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)


@functools.lru_cache(maxsize=512)  # a handful of field names, converted on every list call
def camel(name: str) -> str:
    """``created_at`` -> ``createdAt``; camelCase input is returned unchanged."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_keys(values: Mapping[str, Any]) -> Dict[str, Any]:
    """Top-level keys to camelCase (nested values are the caller's and stay as given)."""
    return {camel(key): value for key, value in values.items()}


def encode_query(query: Optional[Query]) -> Dict[str, str]:
    """Query values as strings: lists comma-joined, booleans lower-case, ``None`` dropped."""
    encoded: Dict[str, str] = {}
    for key, value in (query or {}).items():
        kind = type(value)
        if kind is str or kind is int:  # most values: plain strings and numbers
            encoded[key] = str(value)
        elif value is None:
            continue
        elif isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple, set, frozenset)):
            joined = ",".join(str(item) for item in value if item is not None)
            if joined:
                encoded[key] = joined
        else:
            encoded[key] = str(value)
    return encoded


def list_query(
    *,
    page: int,
    page_size: int,
    order_by: Optional[str],
    order_direction: Optional[str],
    **filters: object,
) -> Dict[str, object]:
    """Paging and sorting in wire form (camelCase keys; ``created_at`` sorts as ``createdAt``)."""
    query: Dict[str, object] = {"page": page, "pageSize": page_size}
    if order_by:
        query["orderBy"] = camel(order_by)
    if order_direction:
        query["orderDirection"] = order_direction
    query.update((key, value) for key, value in filters.items() if value is not None)
    return query


# What ``quote(value, safe="")`` leaves as it is: an id made of these needs no quoting.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")


def path_param(value: str, name: str) -> str:
    """An id for a URL path; empty ids are refused before any request is made."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"Expected a non-empty string for `{name}`, got {value!r}")
    return value if _UNRESERVED.fullmatch(value) else quote(value, safe="")


def new_idempotency_key() -> str:
    return f"moderatelyai-{uuid.uuid4()}"


def prepare_request(
    settings: ClientSettings,
    method: str,
    path: str,
    *,
    query: Optional[Query] = None,
    body: Any = None,
    options: Optional[RequestOptions] = None,
) -> PreparedRequest:
    """Everything a request needs; a POST gets its Idempotency-Key here, once for all attempts.

    The request options go where they belong (headers, query, body), never into the body as
    fields of their own."""
    headers = settings.headers
    params = {**settings.query, **encode_query(query)} if query else settings.query
    if options:
        if not OPTION_NAMES.issuperset(options):
            check_options(options)
        if "extra_headers" in options:
            headers = {**headers, **options["extra_headers"]}
        if "extra_query" in options:
            params = {**params, **encode_query(options["extra_query"])}
        if "extra_body" in options and method in ("POST", "PATCH", "PUT"):
            if body is not None and not isinstance(body, Mapping):
                raise TypeError("extra_body needs a request whose body is a JSON object")
            body = {**(body or {}), **options["extra_body"]}
    if method == "POST":
        key = (options or {}).get("idempotency_key") or new_idempotency_key()
        headers = {**headers, "Idempotency-Key": key}
    url = f"{settings.base_url}/{path.lstrip('/')}"
    return PreparedRequest(method, url, params, headers, body)


def call_timeout(options: Optional[RequestOptions], fallback: httpx.Timeout) -> httpx.Timeout:
    """The timeout of one call: its ``timeout=`` option, else the client's."""
    if options and "timeout" in options:
        return resolve_timeout(options["timeout"], fallback)
    return fallback


def request_timeout(
    options: Optional[RequestOptions], fallback: httpx.Timeout, pool_default: httpx.Timeout
) -> Any:
    """``call_timeout`` as ``build_request`` takes it: the call's own ``timeout=`` value (httpx
    wraps it in an ``httpx.Timeout``, so it is not wrapped twice), else ``USE_CLIENT_DEFAULT``
    when the client's timeout is the pool's own object (nothing to copy), else the client's."""
    given = options.get("timeout") if options else None
    if given is not None:
        return given
    return httpx.USE_CLIENT_DEFAULT if fallback is pool_default else fallback


def call_retry(options: Optional[RequestOptions], fallback: RetryConfig) -> RetryConfig:
    """The retry policy of one call: the client's, with its ``max_retries=`` option."""
    if options and "max_retries" in options:
        return dataclasses.replace(fallback, max_retries=options["max_retries"])
    return fallback


def should_retry(response: httpx.Response, retry: RetryConfig) -> bool:
    # An explicit server hint wins.
    hint = response.headers.get("x-should-retry")
    if hint == "true":
        return True
    if hint == "false":
        return False
    status = response.status_code
    if retry.retryable_status_codes is not None:
        return status in retry.retryable_status_codes
    if status == 409:
        # Most conflicts are final (duplicate name, terminal state): retrying them only delays
        # the ConflictError. A transient one (an Idempotency-Key still in progress) says when
        # to come back.
        return "retry-after" in response.headers
    return status in (408, 429) or status >= 500


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        seconds = email.utils.mktime_tz(parsed) - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def retry_delay(attempt: int, response: Optional[httpx.Response], retry: RetryConfig) -> float:
    """Seconds before retry number ``attempt`` (from 0): the server's hint, else backoff."""
    if response is not None:
        after = parse_retry_after(response.headers.get("retry-after"))
        if after is not None:
            return min(after, retry.max_backoff)
    delay = min(retry.backoff_factor**attempt, retry.max_backoff)
    return delay * (1.0 - 0.25 * random.random())  # jitter spreads out clients that failed together


def connection_error(
    exc: Exception, attempts: int, request: Optional[httpx.Request], what: str = "Request"
) -> APIConnectionError:
    """The error for a request that got no answer on any attempt (``what``: "Request", or the
    presigned "upload"/"download")."""
    cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        message = f"{what} timed out after {attempts} attempt(s) ({cause})"
        return APITimeoutError(message, request=request)
    message = f"{what} failed after {attempts} attempt(s): no answer from the server ({cause})"
    return APIConnectionError(message, request=request)


def parse_body(response: httpx.Response) -> Any:
    """The JSON body of a successful response (``None`` when there is none)."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise APIError(
            f"Invalid JSON response: {exc}",
            response.status_code,
            None,
            response.headers.get("x-request-id"),
            response=response,
        ) from exc


# The one status -> exception table. 400 is a ValidationError only when field details came with it.
_STATUS_ERRORS: Dict[int, Type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def error_from_response(response: httpx.Response) -> APIError:
    """The exception for an error response; reads ``{"error": {...}}`` and top-level keys."""
    status = response.status_code
    request_id = response.headers.get("x-request-id")
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    details: Any = None
    if isinstance(body, dict):
        envelope = body.get("error")
        envelope = envelope if isinstance(envelope, dict) else {}
        message = (
            _text(envelope.get("message"))
            or _text(body.get("message"))
            or _text(body.get("detail"))  # a framework's own error, e.g. an unknown route
            or f"HTTP {status}"
        )
        details = body.get("details")
        if not isinstance(details, list):
            details = envelope.get("details")
        request_id = request_id or _text(envelope.get("requestId"))
    else:
        text = response.text.strip()
        message = f"HTTP {status}: {text[:500]}" if text else f"HTTP {status}"

    cls = _STATUS_ERRORS.get(status, APIError)
    extra: Dict[str, Any] = {}
    if cls is ValidationError:
        if isinstance(details, list):
            extra["details"] = [d if isinstance(d, dict) else {"message": str(d)} for d in details]
        else:
            cls = APIError
    elif cls is RateLimitError:
        after = parse_retry_after(response.headers.get("retry-after"))
        extra["retry_after"] = None if after is None else math.ceil(after)
    return cls(
        message,
        status_code=status,
        response_data=body,
        request_id=request_id,
        response=response,
        **extra,
    )


def not_cancellable(error: ConflictError, execution_id: str) -> ExecutionNotCancellableError:
    """The error of a cancel answered 409 (the execution has finished), with the answer's
    message, body and request id."""
    return ExecutionNotCancellableError(
        error.message,
        status_code=error.status_code,
        response_data=error.response_data,
        request_id=error.request_id,
        response=error.response,
        execution_id=execution_id,
    )


def next_page_params(
    params: Mapping[str, object], pagination: Any, item_count: int
) -> Optional[Dict[str, object]]:
    """Query for the page after this one, or ``None`` when this is the last page."""
    if item_count == 0 or not isinstance(pagination, Mapping):
        return None  # an empty page never leads anywhere: stops a loop on inconsistent totals
    page = pagination.get("page", params.get("page", 1))
    if not isinstance(page, int):
        return None
    has_next = pagination.get("hasNextPage")
    if has_next is None:
        total_pages = pagination.get("totalPages")
        has_next = isinstance(total_pages, int) and page < total_pages
    return {**params, "page": page + 1} if has_next else None


def make_body(fields: Mapping[str, Any], extra: Mapping[str, Any]) -> Dict[str, Any]:
    """A JSON body: named ``fields`` (wire keys) minus the ones left at ``None``, then the
    caller's ``**kwargs`` with their top-level keys camelCased (``team_id`` -> ``teamId``)."""
    body = {key: value for key, value in fields.items() if value is not None}
    body.update(camel_keys(extra))
    return body
