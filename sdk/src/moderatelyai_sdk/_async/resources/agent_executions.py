"""Agent executions resource: runs of an agent, their state, memory and live steps."""

import time
from typing import Any, AsyncIterator, Dict, Optional

from typing_extensions import Unpack

from ... import _io_async
from ..._agents import check_finished, input_summary, next_poll_delay
from ..._base_client import (
    EXTENSION_AGENT_EXECUTION_CONTROL as CONTROL,
)
from ..._base_client import (
    PollingOptions,
    RequestOptions,
    camel_keys,
    list_query,
    lookup_options,
    not_cancellable,
    path_param,
    split_options,
)
from ..._exceptions import ConflictError
from ...types.agent_execution import AgentExecution, AgentLiveTail, AgentMemoryState, AgentStep
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource

__all__ = ["AsyncAgentExecutions"]

_PATH = "/agent-executions"
DEFAULT_POLL_INTERVAL = 2.0
DEFAULT_TAIL_INTERVAL = 1.0


class AsyncAgentExecutions(AsyncBaseResource):
    """Manage agent executions and follow them while they run.

    An execution runs one agent configuration version on an input. The server's workers move it
    from ``pending`` through ``running`` (one step at a time, each saved as a memory state) to
    ``completed``, ``failed`` or ``cancelled``.

    Example::

        execution = await client.agent_executions.create(
            agent_id=agent.agent_id, input_data={"question": "Which clauses renew?"}
        )
        async for step in client.agent_executions.tail(execution.agent_execution_id):
            print(step.step_type, step.summary)
        done = await client.agent_executions.wait_for_completion(execution.agent_execution_id)
        print(done.agent_output)

    The waits (``wait_for_completion``, ``wait_for_success``, ``tail``) take the request options
    but ``timeout``, which bounds the whole wait; they apply to each poll.
    """

    @_io_async.paginated
    async def list(
        self,
        *,
        agent_id: Optional[str] = None,
        status: Optional[str] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "created_at",
        order_direction: str = "desc",
        **options: Unpack[RequestOptions],
    ) -> AsyncPage[AgentExecution]:
        """List the team's agent executions with pagination.

        Args:
            agent_id: Only executions of this agent.
            status: Only executions in this status (e.g. "running", "completed", "failed").
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-100). Defaults to 10.
            order_by: "created_at", "updated_at" or "started_at". Defaults to "created_at".
            order_direction: Sort direction ("asc" or "desc"). Defaults to "desc".

        Wire: ``GET /agent-executions``
        """
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            agentIds=agent_id,
            statuses=status,
        )
        return await self._get_page(_PATH, AgentExecution, query=query, options=options)

    async def retrieve(
        self, execution_id: str, **options: Unpack[RequestOptions]
    ) -> AgentExecution:
        """Retrieve an agent execution by ID: its status, thoughts and, once completed, output.

        Raises:
            NotFoundError: If the execution doesn't exist (or belongs to another team).

        Wire: ``GET /agent-executions/{agentExecutionId}``
        """
        return await self._get(_execution_path(execution_id), AgentExecution, options=options)

    async def create(
        self, *, agent_id: str, input_data: Optional[Dict[str, Any]] = None, **kwargs: Any
    ) -> AgentExecution:
        """Start an execution of an agent; it is created ``pending`` and run by the server's
        workers.

        Unless ``agent_configuration_version_id=`` is given, the agent's current configuration
        version runs. The summary defaults to the input as compact JSON (first 500 characters).

        Args:
            agent_id: The agent to run.
            input_data: The input (``agentInput``), checked against the version's input
                schema. Defaults to ``{}``.
            **kwargs: Other fields, sent with camelCase keys: ``agent_configuration_version_id``,
                ``agent_input_summary``, ``max_actions`` (1-100), ``planning_interval`` (1-50),
                ``agent_input_schema``, ``agent_output_schema``. The request options
                (``timeout``, ``extra_headers``, ...) are taken out first and apply to both
                requests (``extra_body`` and ``idempotency_key`` only to the POST).

        Raises:
            ValueError: If both ``input_data`` and ``agent_input`` are given.
            ValidationError: If the input does not match the schema or a field is invalid (or
                the agent has no configuration version).
            NotFoundError: If the agent (or the configuration version) doesn't exist.

        Wire: ``GET /agent-configuration-versions?agentIds=<agent_id>&isCurrent=true`` (without
        ``agent_configuration_version_id``), then ``POST /agent-executions``
        """
        options, kwargs = split_options(kwargs)
        extra = camel_keys(kwargs)
        also_input = extra.pop("agentInput", None)  # the wire's name for input_data
        if input_data is not None and also_input is not None:
            raise ValueError("Pass the input once: input_data= or agent_input=, not both")
        agent_input = next((i for i in (input_data, also_input) if i is not None), {})
        version_id = extra.pop("agentConfigurationVersionId", None)
        if version_id is None:
            version_id = await self._current_version_id(agent_id, lookup_options(options))
        summary = extra.pop("agentInputSummary", None) or input_summary(agent_input)
        body: Dict[str, Any] = {
            "agentId": agent_id,
            "agentInput": agent_input,
            "agentInputSummary": summary,
            **extra,
        }
        if version_id is not None:  # else the server resolves agentId, or says why it cannot
            body["agentConfigurationVersionId"] = version_id
        return await self._post(_PATH, AgentExecution, body=body, options=options)

    async def _current_version_id(self, agent_id: str, options: RequestOptions) -> Optional[str]:
        path_param(agent_id, "agent_id")  # an empty id is refused before any request
        query = {"agentIds": agent_id, "isCurrent": True}
        versions = await self._client._request(
            "GET", "/agent-configuration-versions", query=query, options=options
        )
        if isinstance(versions, list) and versions and isinstance(versions[0], dict):
            found = versions[0].get("agentConfigurationVersionId")
            return found if isinstance(found, str) else None
        return None

    async def cancel(self, execution_id: str, **options: Unpack[RequestOptions]) -> AgentExecution:
        """Cancel a pending, running or paused execution: it is ``cancelled`` at once and the
        agent takes no further step.

        Raises:
            NotFoundError: If the execution doesn't exist, or the server does not offer the
                ``agent-execution-control`` extension (the message says which).
            ExecutionNotCancellableError: If it has already finished (completed, failed or
                cancelled): the server's 409, a ``ConflictError`` (and a ``ValidationError``).

        Wire: ``POST /agent-executions/{agentExecutionId}/cancel`` (an extension of the
        published API: docs/reference/api.md, Extensions)
        """
        path = f"{_execution_path(execution_id)}/cancel"
        try:
            return await self._in_extension(
                CONTROL,
                "POST /agent-executions/{agentExecutionId}/cancel",
                lambda: self._post(path, AgentExecution, body={}, options=options),
            )
        except ConflictError as exc:
            raise not_cancellable(exc, execution_id) from None

    async def delete(self, execution_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete an execution with its memory states (a running one is cancelled first).

        Raises:
            NotFoundError: If the execution doesn't exist, or the server does not offer the
                ``agent-execution-control`` extension (the message says which).

        Wire: ``DELETE /agent-executions/{agentExecutionId}`` (an extension of the published
        API: docs/reference/api.md, Extensions)
        """
        path = _execution_path(execution_id)
        await self._in_extension(
            CONTROL,
            "DELETE /agent-executions/{agentExecutionId}",
            lambda: self._delete(path, options=options),
        )

    async def wait_for_completion(
        self,
        execution_id: str,
        *,
        timeout: Optional[float] = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        **options: Unpack[PollingOptions],
    ) -> AgentExecution:
        """Poll until the execution reaches a terminal state (completed, failed or cancelled)
        and return it, as the reference documents it: look at ``status`` (or use
        ``wait_for_success`` to have a failure raised).

        Polls quickly at first, then every ``poll_interval`` seconds.

        Args:
            execution_id: The ID of the execution.
            timeout: Give up after this many seconds (default: wait as long as it takes).
            poll_interval: Longest pause between two polls, in seconds. Defaults to 2.
            **options: Request options of each poll (all but ``timeout``, which is the wait's).

        Raises:
            TimeoutError: If it has not finished after ``timeout`` seconds (it keeps running).
            NotFoundError: If the execution doesn't exist.

        Wire: ``GET /agent-executions/{agentExecutionId}`` (repeated)
        """
        started = time.monotonic()
        attempt = 0
        while True:
            execution = await self.retrieve(execution_id, **options)
            if execution.is_terminal:
                return execution
            where = f"Agent execution {execution_id} is still {execution.status}"
            await _io_async.sleep(next_poll_delay(attempt, poll_interval, timeout, started, where))
            attempt += 1

    async def wait_for_success(
        self,
        execution_id: str,
        *,
        timeout: Optional[float] = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        **options: Unpack[PollingOptions],
    ) -> AgentExecution:
        """Like ``wait_for_completion``, but only a completed execution comes back.

        Raises:
            AgentExecutionFailedError: If it failed (``reason``; ``execution`` is the final
                state).
            AgentExecutionCancelledError: If it was cancelled.
            TimeoutError: If it has not finished after ``timeout`` seconds (it keeps running).
            NotFoundError: If the execution doesn't exist.

        Wire: ``GET /agent-executions/{agentExecutionId}`` (repeated)
        """
        finished = await self.wait_for_completion(
            execution_id, timeout=timeout, poll_interval=poll_interval, **options
        )
        return check_finished(finished)

    async def live_tail(
        self, execution_id: str, **options: Unpack[RequestOptions]
    ) -> AgentLiveTail:
        """One snapshot for a live view: the execution's status, its latest memory state, that
        state's steps and the number of memory-state versions.

        Raises:
            NotFoundError: If the execution doesn't exist.

        Wire: ``GET /agent-executions/{agentExecutionId}/live-tail``
        """
        path = f"{_execution_path(execution_id)}/live-tail"
        return await self._get(path, AgentLiveTail, options=options)

    async def tail(
        self,
        execution_id: str,
        *,
        poll_interval: float = DEFAULT_TAIL_INTERVAL,
        timeout: Optional[float] = None,
        **options: Unpack[PollingOptions],
    ) -> AsyncIterator[AgentStep]:
        """Every step of the execution, each once and in order, as the agent takes them; ends
        when the execution has finished (``async for step in ...tail(id)``).

        Steps already taken come first. Polls quickly while steps keep coming, then every
        ``poll_interval`` seconds. Ending says nothing about success: ``retrieve`` (or
        ``wait_for_completion``) tells how it ended.

        Args:
            execution_id: The ID of the execution.
            poll_interval: Longest pause between two polls, in seconds. Defaults to 1.
            timeout: Stop with ``TimeoutError`` after this many seconds (default: none).
            **options: Request options of each poll (all but ``timeout``, which is the wait's).

        Raises:
            NotFoundError: If the execution doesn't exist.
            TimeoutError: If it has not finished after ``timeout`` seconds.

        Wire: ``GET /agent-executions/{agentExecutionId}/live-tail`` (repeated)
        """
        started = time.monotonic()
        seen = 0
        attempt = 0
        while True:
            snapshot = await self.live_tail(execution_id, **options)
            steps = snapshot.steps
            for step in steps[seen:]:
                yield step
            if len(steps) > seen:
                seen, attempt = len(steps), 0  # new steps: look again soon
            if snapshot.execution.is_terminal:
                return
            where = f"Agent execution {execution_id} is still {snapshot.execution.status}"
            await _io_async.sleep(next_poll_delay(attempt, poll_interval, timeout, started, where))
            attempt += 1

    @_io_async.paginated
    async def list_memory_states(
        self,
        execution_id: str,
        *,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "version",
        order_direction: str = "asc",
        version: Optional[int] = None,
        latest: Optional[bool] = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPage[AgentMemoryState]:
        """List the saved memory states of an execution (version 1 is the start; each step
        adds one).

        Args:
            execution_id: The ID of the execution.
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-1000). Defaults to 10.
            order_by: "version" or "created_at". Defaults to "version".
            order_direction: "asc" or "desc". Defaults to "asc".
            version: Only this version.
            latest: ``True`` for only the latest version.

        Raises:
            NotFoundError: If the execution doesn't exist.

        Wire: ``GET /agent-executions/{agentExecutionId}/memory-states``
        """
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            version=version,
            latest=latest,
        )
        path = f"{_execution_path(execution_id)}/memory-states"
        return await self._get_page(path, AgentMemoryState, query=query, options=options)

    async def retrieve_memory_state(
        self, execution_id: str, version: int, **options: Unpack[RequestOptions]
    ) -> AgentMemoryState:
        """One memory state of an execution, by version number.

        Raises:
            NotFoundError: If the execution or that version doesn't exist.

        Wire: ``GET /agent-executions/{agentExecutionId}/memory-states/{version}``
        """
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"Expected a version number >= 1, got {version!r}")
        path = f"{_execution_path(execution_id)}/memory-states/{version}"
        return await self._get(path, AgentMemoryState, options=options)


def _execution_path(execution_id: str) -> str:
    return f"{_PATH}/{path_param(execution_id, 'execution_id')}"
