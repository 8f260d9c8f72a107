"""The client: settings, one retrying request loop, and the resource attributes."""

import copy
import dataclasses
from types import TracebackType
from typing import Any, Dict, List, Mapping, Optional, Type

import httpx
from typing_extensions import Self

from .. import _io_async
from .._base_client import (
    DEFAULT_MAX_RETRIES,
    RETRYABLE_TRANSPORT_ERRORS,
    Query,
    RetryConfig,
    TimeoutTypes,
    error_from_response,
    parse_body,
    prepare_request,
    resolve_settings,
    resolve_timeout,
    retry_delay,
    should_retry,
    transport_error,
)
from .._models import ModelT, validate_list, validate_model
from ._pagination import AsyncPage
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


class AsyncBaseClient:
    """Settings, the HTTP connection pool and the retrying request loop shared by resources."""

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
        self._settings = resolve_settings(
            api_key=api_key,
            team_id=team_id,
            base_url=base_url,
            default_headers=default_headers,
            default_query=default_query,
        )
        self.api_key = self._settings.api_key
        self.team_id = self._settings.team_id
        self.base_url = self._settings.base_url
        self._retry = retry_config if retry_config is not None else RetryConfig(max_retries)
        self._timeout = resolve_timeout(timeout, http_client.timeout if http_client else None)
        # A client passed in by the caller stays the caller's to close.
        self._owns_http = http_client is None
        self._http = (
            http_client if http_client is not None else httpx.AsyncClient(timeout=self._timeout)
        )

    async def _request(
        self, method: str, path: str, *, query: Optional[Query] = None, body: Any = None
    ) -> Any:
        """Send one API call with retries; return the parsed JSON body or raise."""
        prepared = prepare_request(self._settings, method, path, query=query, body=body)
        request = self._http.build_request(
            prepared.method,
            prepared.url,
            params=prepared.params,
            headers=prepared.headers,
            json=prepared.json,
            timeout=self._timeout,
        )
        retry = self._retry
        attempt = 0
        while True:
            try:
                response = await self._http.send(request)
            except RETRYABLE_TRANSPORT_ERRORS as exc:
                if attempt >= retry.max_retries:
                    raise transport_error(exc, attempt + 1) from exc
                delay = retry_delay(attempt, None, retry)
            else:
                if response.is_success:
                    return parse_body(response)
                if attempt >= retry.max_retries or not should_retry(response, retry):
                    raise error_from_response(response)
                delay = retry_delay(attempt, response, retry)
            await _io_async.sleep(delay)
            attempt += 1

    def _cast(self, cast_to: Type[ModelT], data: Any) -> ModelT:
        return validate_model(cast_to, data, self)  # bound: rich methods call back through us

    def _cast_list(self, cast_to: Type[ModelT], items: Any) -> List[ModelT]:
        return validate_list(cast_to, items, self)

    async def _get_page(
        self, path: str, cast_to: Type[ModelT], query: Dict[str, object]
    ) -> AsyncPage[ModelT]:
        body = await self._request("GET", path, query=query)
        return AsyncPage(self, path, cast_to, query, body)

    def with_options(
        self,
        *,
        timeout: TimeoutTypes = None,
        max_retries: Optional[int] = None,
        retry_config: Optional[RetryConfig] = None,
    ) -> Self:
        """A copy of this client with other per-call settings, sharing its connection pool.

        Example: ``client.with_options(timeout=5, max_retries=0).agents.retrieve(agent_id)``.
        """
        clone = copy.copy(self)
        if timeout is not None:
            clone._timeout = resolve_timeout(timeout, None)
        if retry_config is not None:
            clone._retry = retry_config
        elif max_retries is not None:
            clone._retry = dataclasses.replace(self._retry, max_retries=max_retries)
        clone._owns_http = False  # the pool stays with the original client
        clone._init_resources()
        return clone

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
