"""The client: settings, the one request path (API calls and presigned transfers alike), and
the resource attributes."""

import copy
import dataclasses
import logging
import time
from types import TracebackType
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    FrozenSet,
    List,
    Mapping,
    Optional,
    Tuple,
    Type,
    TypeVar,
)

import httpx
from typing_extensions import Self

from .. import _io_async, _logs
from .._base_client import (
    DEFAULT_MAX_RETRIES,
    NOT_GIVEN,
    RETRYABLE_TRANSPORT_ERRORS,
    Query,
    RequestOptions,
    RetryConfig,
    TimeoutTypes,
    call_retry,
    call_timeout,
    connection_error,
    error_from_response,
    parse_body,
    prepare_request,
    request_id_of,
    request_timeout,
    resolve_settings,
    resolve_timeout,
    retry_delay,
    should_retry,
)
from .._exceptions import APIError
from .._files import storage_error, transfer_should_retry
from .._models import ModelT, read_model, validate_list, validate_model
from .._pages import read_page
from ._pagination import AsyncPage
from ._response import AsyncRawResponseProxy, note_response
from .resources.agent_configuration_versions import AsyncAgentConfigurationVersions
from .resources.agent_executions import AsyncAgentExecutions
from .resources.agents import AsyncAgents
from .resources.audit_logs import AsyncAuditLogs
from .resources.dataset_schema_versions import AsyncDatasetSchemaVersions
from .resources.datasets import AsyncDatasets
from .resources.files import AsyncFiles
from .resources.pipeline_configuration_versions import AsyncPipelineConfigurationVersions
from .resources.pipeline_executions import AsyncPipelineExecutions
from .resources.pipelines import AsyncPipelines
from .resources.teams import AsyncTeams
from .resources.users import AsyncUsers

__all__ = ["AsyncBaseClient", "AsyncModeratelyAI"]

T = TypeVar("T")

_logs.setup_from_environment()


class AsyncBaseClient:
    """Settings, the HTTP connection pool and the one retrying request path shared by
    resources."""

    def __init__(
        self,
        *,
        team_id: Optional[str],
        api_key: Optional[str],
        base_url: Optional[str],
        timeout: TimeoutTypes,
        max_retries: int,
        retry_config: Optional[RetryConfig],
        default_headers: Optional[Mapping[str, str]],
        default_query: Optional[Query],
        http_client: Optional[httpx.AsyncClient],
    ) -> None:
        self._default_headers = dict(default_headers or {})
        self._default_query = dict(default_query or {})
        self._configure(api_key, team_id, base_url)
        self._retry = retry_config if retry_config is not None else RetryConfig(max_retries)
        self._timeout = resolve_timeout(timeout, http_client.timeout if http_client else None)
        # What each server (by base URL) says it offers beyond the published API; copies share
        # it, so the question is asked once.
        self._server_extensions: Dict[str, FrozenSet[str]] = {}
        # A client passed in by the caller stays the caller's to close.
        self._owns_http = http_client is None
        if http_client is not None:
            self._http = http_client
        else:
            self._http = httpx.AsyncClient(timeout=self._timeout)
            # The pool's own (equal) object: calls without a timeout= then leave it to the pool.
            self._timeout = self._http.timeout

    def _configure(
        self, api_key: Optional[str], team_id: Optional[str], base_url: Optional[str]
    ) -> None:
        self._settings = resolve_settings(
            api_key=api_key,
            team_id=team_id,
            base_url=base_url,
            default_headers=self._default_headers,
            default_query=self._default_query,
        )
        self.api_key = self._settings.api_key
        self.team_id = self._settings.team_id
        self.base_url = self._settings.base_url

    # --- the request path ----------------------------------------------------------------------

    async def _send(
        self,
        build: Callable[[], httpx.Request],
        retry: RetryConfig,
        *,
        presigned: str = "",
        receive: Optional[Callable[[httpx.Response], Awaitable[T]]] = None,
    ) -> Tuple[httpx.Response, Optional[T]]:
        """Send ``build()`` until it succeeds or no attempt is left; every byte the SDK sends
        goes through here.

        ``presigned`` names a storage transfer ("upload", "download"): no client auth, no
        redirects, and only a 5xx or a lost connection is repeated (a 403 means the URL expired
        or was altered). ``receive`` reads a streamed body inside the attempt, so a connection
        lost mid-body is repeated like one lost before the answer.
        """
        attempt = 0
        verbose = _logs.logger.isEnabledFor(logging.DEBUG)
        while True:
            request = build()
            started = time.monotonic() if verbose else 0.0
            failure: Optional[Exception] = None
            response: Optional[httpx.Response] = None
            try:
                if presigned:
                    response = await self._http.send(
                        request, stream=receive is not None, auth=None, follow_redirects=False
                    )
                else:
                    response = await self._http.send(request, stream=receive is not None)
                if response.is_success:
                    received = await receive(response) if receive is not None else None
                    if verbose:
                        self._log(request, presigned, response, started, attempt)
                    return response, received
                if receive is not None:
                    await response.aread()
            except RETRYABLE_TRANSPORT_ERRORS as exc:
                failure = exc
            finally:
                if receive is not None and response is not None:
                    await response.aclose()
            if verbose:
                self._log(request, presigned, response, started, attempt)
            if response is not None and failure is None:
                if presigned:
                    error = storage_error(response, presigned)
                    again = transfer_should_retry(response)
                else:
                    error = error_from_response(response)
                    again = should_retry(response, retry)
                if not again or attempt >= retry.max_retries:
                    raise error
                why = f"HTTP {response.status_code}"
            else:
                assert failure is not None
                if attempt >= retry.max_retries:
                    what = f"The presigned {presigned}" if presigned else "Request"
                    raise connection_error(failure, attempt + 1, request, what) from failure
                why, response = type(failure).__name__, None
            delay = retry_delay(attempt, response, retry)
            _logs.log_retry(
                request, bool(presigned), why, delay, attempt + 2, retry.max_retries + 1
            )
            await _io_async.sleep(delay)
            attempt += 1

    @staticmethod
    def _log(
        request: httpx.Request,
        presigned: str,
        response: Optional[httpx.Response],
        started: float,
        attempt: int,
    ) -> None:
        status = response.status_code if response is not None else None
        request_id = request_id_of(response)
        elapsed = time.monotonic() - started
        _logs.log_response(request, bool(presigned), status, elapsed, request_id, attempt + 1)

    async def _respond(
        self,
        method: str,
        path: str,
        query: Optional[Query],
        body: Any,
        options: Optional[RequestOptions],
    ) -> httpx.Response:
        """One API call with retries: the successful response, or raise."""
        prepared = prepare_request(
            self._settings, method, path, query=query, body=body, options=options
        )
        request = self._http.build_request(
            prepared.method,
            prepared.url,
            params=prepared.params,
            headers=prepared.headers,
            json=prepared.json,
            timeout=request_timeout(options, self._timeout, self._http.timeout),
        )
        response, _ = await self._send(lambda: request, call_retry(options, self._retry))
        note_response(response)
        return response

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Query] = None,
        body: Any = None,
        options: Optional[RequestOptions] = None,
    ) -> Tuple[Any, httpx.Response]:
        """One API call with retries: the parsed JSON body and the response, or raise."""
        response = await self._respond(method, path, query, body, options)
        return parse_body(response), response

    async def _call_model(
        self,
        method: str,
        path: str,
        cast_to: Type[ModelT],
        *,
        query: Optional[Query] = None,
        body: Any = None,
        options: Optional[RequestOptions] = None,
    ) -> ModelT:
        """One API call with retries: its answer as a ``cast_to`` bound to this client."""
        response = await self._respond(method, path, query, body, options)
        return read_model(cast_to, response, self)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Query] = None,
        body: Any = None,
        options: Optional[RequestOptions] = None,
    ) -> Any:
        """One API call with retries: the parsed JSON body, or raise."""
        answer, _ = await self._call(method, path, query=query, body=body, options=options)
        return answer

    async def _transfer(
        self,
        action: str,
        method: str,
        url: str,
        *,
        options: Optional[RequestOptions] = None,
        headers: Optional[Dict[str, str]] = None,
        content: Optional[Callable[[], Any]] = None,
        receive: Optional[Callable[[httpx.Response], Awaitable[T]]] = None,
    ) -> Optional[T]:
        """A presigned storage request (``action``: "upload" or "download"): the URL's own
        signature and no client headers; ``content()`` makes a fresh body for each attempt."""
        timeout = call_timeout(options, self._timeout).as_dict()

        def build() -> httpx.Request:
            # Built directly, not with build_request: no default headers, cookies or base URL.
            body = content() if content is not None else None
            return httpx.Request(
                method, url, headers=headers, content=body, extensions={"timeout": timeout}
            )

        retry = call_retry(options, self._retry)
        _, received = await self._send(build, retry, presigned=action, receive=receive)
        return received

    async def _extensions(self) -> FrozenSet[str]:
        """The extensions of the published API that this server advertises (``GET /health``
        answers them as ``extensions``); empty for a server that advertises none. Methods use an
        extension only when it is listed here and fall back to published operations otherwise
        (docs/reference/api.md, Extensions)."""
        known = self._server_extensions.get(self.base_url)
        if known is None:
            try:
                health = await self._request("GET", "/health", options={"max_retries": 1})
            except APIError:
                health = None
            listed = health.get("extensions") if isinstance(health, dict) else None
            names = listed if isinstance(listed, list) else []
            known = frozenset(name for name in names if isinstance(name, str))
            self._server_extensions[self.base_url] = known
        return known

    def _cast(
        self, cast_to: Type[ModelT], data: Any, response: Optional[httpx.Response] = None
    ) -> ModelT:
        # Bound: rich methods call back through us.
        return validate_model(cast_to, data, self, request_id_of(response))

    def _cast_list(
        self, cast_to: Type[ModelT], items: Any, request_id: Optional[str] = None
    ) -> List[ModelT]:
        return validate_list(cast_to, items, self, request_id)

    async def _get_page(
        self,
        path: str,
        cast_to: Type[ModelT],
        query: Dict[str, object],
        options: Optional[RequestOptions] = None,
    ) -> AsyncPage[ModelT]:
        response = await self._respond("GET", path, query, None, options)
        wire, request_id = read_page(cast_to, response, self)
        return AsyncPage(self, path, cast_to, query, wire, options, request_id)

    # --- copies --------------------------------------------------------------------------------

    def copy(
        self,
        *,
        api_key: Optional[str] = None,
        team_id: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: Optional[int] = None,
        retry_config: Optional[RetryConfig] = None,
        default_headers: Optional[Mapping[str, str]] = None,
        set_default_headers: Optional[Mapping[str, str]] = None,
        default_query: Optional[Mapping[str, object]] = None,
        set_default_query: Optional[Mapping[str, object]] = None,
    ) -> Self:
        """A copy of this client with some settings changed; it shares the connection pool
        (closing the copy leaves the pool open).

        Args:
            api_key: Another API key (e.g. another team's token).
            team_id: Another team to work in.
            base_url: Another API root.
            timeout: Seconds or an ``httpx.Timeout``; ``None`` restores the default.
            max_retries: Retries after a failed attempt.
            retry_config: A whole retry policy (wins over ``max_retries``).
            default_headers: Headers added to this client's.
            set_default_headers: Headers replacing this client's.
            default_query: Query parameters added to this client's.
            set_default_query: Query parameters replacing this client's.

        Example: ``client.with_options(timeout=5, max_retries=0).agents.retrieve(agent_id)``.
        """
        if default_headers is not None and set_default_headers is not None:
            raise ValueError("pass default_headers or set_default_headers, not both")
        if default_query is not None and set_default_query is not None:
            raise ValueError("pass default_query or set_default_query, not both")
        clone = copy.copy(self)
        if set_default_headers is not None:
            clone._default_headers = dict(set_default_headers)
        elif default_headers is not None:
            clone._default_headers = {**self._default_headers, **default_headers}
        if set_default_query is not None:
            clone._default_query = dict(set_default_query)
        elif default_query is not None:
            clone._default_query = {**self._default_query, **default_query}
        clone._configure(
            api_key or self.api_key, team_id or self.team_id, base_url or self.base_url
        )
        if timeout is not NOT_GIVEN:
            clone._timeout = resolve_timeout(timeout, None)
        if retry_config is not None:
            clone._retry = retry_config
        elif max_retries is not None:
            clone._retry = dataclasses.replace(self._retry, max_retries=max_retries)
        clone._owns_http = False  # the pool stays with the original client
        clone._init_resources()
        return clone

    with_options = copy

    @property
    def with_raw_response(self) -> Any:
        """The same API calls, answering the HTTP response with the parsed result
        (``AsyncRawResponse``: ``headers``, ``status_code``, ``request_id``,
        ``http_response``, ``parse()``).

        Example: ``raw = await client.with_raw_response.agents.retrieve(agent_id)``.
        """
        return AsyncRawResponseProxy(self)

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of every call (a call's ``timeout=`` option overrides it)."""
        return self._timeout

    @property
    def max_retries(self) -> int:
        """Retries after a failed attempt (a call's ``max_retries=`` option overrides it)."""
        return self._retry.max_retries

    def __repr__(self) -> str:
        values = set(self._timeout.as_dict().values())
        shown = values.pop() if len(values) == 1 else self._timeout  # one number when it is one
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, team_id={self.team_id!r}, "
            f"timeout={shown!r}, max_retries={self._retry.max_retries})"
        )

    def _init_resources(self) -> None:
        """Bind resource objects to this client (subclasses add theirs)."""

    async def close(self) -> None:
        """Close the connection pool (unless it was passed in as ``http_client``)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()


class AsyncModeratelyAI(AsyncBaseClient):
    """Client for the Moderately AI API.

    Every call is scoped to one team: requests carry ``teamIds=<team_id>`` and new agents are
    created in that team.

    Example::

        async with AsyncModeratelyAI() as client:  # reads MODERATELY_API_KEY / _TEAM_ID / _BASE_URL
            agent = await client.agents.create(name="Support")
            page = await client.users.list()
            async for user in page.auto_paging_iter():
                print(user.display_name())
    """

    users: AsyncUsers
    teams: AsyncTeams
    agents: AsyncAgents
    agent_configuration_versions: AsyncAgentConfigurationVersions
    agent_executions: AsyncAgentExecutions
    files: AsyncFiles
    datasets: AsyncDatasets
    dataset_schema_versions: AsyncDatasetSchemaVersions
    pipelines: AsyncPipelines
    pipeline_configuration_versions: AsyncPipelineConfigurationVersions
    pipeline_executions: AsyncPipelineExecutions
    audit_logs: AsyncAuditLogs

    def __init__(
        self,
        *,
        team_id: Optional[str] = None,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: TimeoutTypes = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_config: Optional[RetryConfig] = None,
        default_headers: Optional[Dict[str, str]] = None,
        default_query: Optional[Dict[str, object]] = None,
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        """Create a client.

        Args:
            team_id: Team to work in; defaults to ``MODERATELY_TEAM_ID``.
            api_key: API key; defaults to ``MODERATELY_API_KEY``.
            base_url: API root; defaults to ``MODERATELY_BASE_URL``, else
                ``https://api.moderately.ai``.
            timeout: Seconds or an ``httpx.Timeout``; defaults to 30 s (10 s to connect).
            max_retries: Retries after a failed attempt; ignored when ``retry_config`` is given.
            retry_config: Full retry policy (backoff, cap, retryable statuses).
            default_headers: Headers added to every request (they win over the SDK's).
            default_query: Query parameters added to every request.
            http_client: An ``httpx`` client to send through (the caller closes it); the SDK
                still sends its own headers on every request.

        Raises:
            ValueError: If no API key or team id is given or found in the environment.
        """
        super().__init__(
            team_id=team_id,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_config=retry_config,
            default_headers=default_headers,
            default_query=default_query,
            http_client=http_client,
        )
        self._init_resources()

    def _init_resources(self) -> None:
        self.users = AsyncUsers(self)
        self.teams = AsyncTeams(self)
        self.agents = AsyncAgents(self)
        self.agent_configuration_versions = AsyncAgentConfigurationVersions(self)
        self.agent_executions = AsyncAgentExecutions(self)
        self.files = AsyncFiles(self)
        self.datasets = AsyncDatasets(self)
        self.dataset_schema_versions = AsyncDatasetSchemaVersions(self)
        self.pipelines = AsyncPipelines(self)
        self.pipeline_configuration_versions = AsyncPipelineConfigurationVersions(self)
        self.pipeline_executions = AsyncPipelineExecutions(self)
        self.audit_logs = AsyncAuditLogs(self)
