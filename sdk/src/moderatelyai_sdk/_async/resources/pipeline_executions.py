"""Pipeline executions resource: runs of a configuration version, their progress and output."""

from typing import Any, Dict, List, Optional

from typing_extensions import Unpack

from ... import _io_async
from ..._base_client import (
    RequestOptions,
    list_query,
    make_body,
    not_cancellable,
    path_param,
    split_options,
)
from ..._exceptions import ConflictError
from ..._pipelines import decode_stored_output, inline_output, stored_output
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource
from .._streams import DownloadSink
from ..models.pipeline import PipelineExecutionAsyncModel

__all__ = ["AsyncPipelineExecutions"]

_PATH = "/pipeline-executions"


class AsyncPipelineExecutions(AsyncBaseResource):
    """Manage pipeline executions.

    An execution runs one configuration version on an input (input block id -> value). The
    server's engine moves it from ``pending`` through ``running`` to ``completed``, ``failed``
    or ``cancelled``, reporting ``current_step``/``total_steps`` and ``progress_data`` on the
    way. Every method except ``get_output`` returns ``PipelineExecutionAsyncModel`` objects.

    Example::

        execution = await client.pipeline_executions.create(
            pipeline_configuration_version_id=version_id,
            pipeline_input={"user_input": "Hello"},
            pipeline_input_summary="greeting",
        )
        await execution.wait_for_completion(timeout=60, on_progress=lambda e: print(e.message))
        output = await client.pipeline_executions.get_output(execution.execution_id)
        page = await client.pipeline_executions.list(statuses=["failed"], order_direction="desc")
    """

    @_io_async.paginated
    async def list(
        self,
        *,
        pipeline_ids: Optional[List[str]] = None,
        pipeline_configuration_version_ids: Optional[List[str]] = None,
        pipeline_execution_ids: Optional[List[str]] = None,
        status: Optional[str] = None,
        statuses: Optional[List[str]] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: Optional[str] = None,
        order_direction: str = "asc",
        **options: Unpack[RequestOptions],
    ) -> AsyncPage[PipelineExecutionAsyncModel]:
        """List pipeline executions with pagination.

        Args:
            pipeline_ids: Only executions of these pipelines' configuration versions.
            pipeline_configuration_version_ids: Only executions of these versions.
            pipeline_execution_ids: Only these executions.
            status: Only executions in this status.
            statuses: Only executions in one of these statuses (with ``status``: both apply).
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-1000). Defaults to 10.
            order_by: "createdAt", "updatedAt" or "startedAt" (snake_case works too); the
                server sorts by "createdAt" when not given.
            order_direction: Sort direction ("asc" or "desc"). Defaults to "asc".

        Returns:
            A page of ``PipelineExecutionAsyncModel`` objects; ``auto_paging_iter()`` walks
            every execution.

        Wire: ``GET /pipeline-executions``
        """
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            pipelineIds=pipeline_ids,
            pipelineConfigurationVersionIds=pipeline_configuration_version_ids,
            pipelineExecutionIds=pipeline_execution_ids,
            status=status,
            statuses=statuses,
        )
        return await self._get_page(
            _PATH, PipelineExecutionAsyncModel, query=query, options=options
        )

    async def retrieve(
        self, pipeline_execution_id: str, **options: Unpack[RequestOptions]
    ) -> PipelineExecutionAsyncModel:
        """Retrieve a specific pipeline execution by ID (its current status and progress).

        Args:
            pipeline_execution_id: The ID of the execution to retrieve.

        Raises:
            NotFoundError: If the execution doesn't exist (or belongs to another team).

        Wire: ``GET /pipeline-executions/{pipelineExecutionId}``
        """
        path = _execution_path(pipeline_execution_id)
        return await self._get(path, PipelineExecutionAsyncModel, options=options)

    async def create(
        self,
        *,
        pipeline_configuration_version_id: str,
        pipeline_input: Dict[str, Any],
        pipeline_input_summary: str,
        current_step: Optional[int] = None,
        total_steps: Optional[int] = None,
        **kwargs: Any,
    ) -> PipelineExecutionAsyncModel:
        """Start an execution of a configuration version (any status; drafts too).

        The execution is created ``pending`` and run by the server's workers; a retried request
        never starts a second one (the SDK sends one ``Idempotency-Key`` for all attempts).

        Args:
            pipeline_configuration_version_id: The ID of the version to execute.
            pipeline_input: Input block id -> value, each checked against the block's schema.
            pipeline_input_summary: Human-readable summary of the input (up to 1000 chars).
            current_step: The current step (0-based), for externally driven executions.
            total_steps: The total number of steps, for externally driven executions.
            **kwargs: Other fields, sent with camelCase keys; the request options
                (``timeout``, ``idempotency_key``, ...) are taken out first.

        Raises:
            ValidationError: If the configuration does not validate or the input does not match
                its schema (``validation_details`` says why).
            NotFoundError: If the configuration version doesn't exist.

        Wire: ``POST /pipeline-executions``
        """
        options, kwargs = split_options(kwargs)
        fields = {
            "pipelineConfigurationVersionId": pipeline_configuration_version_id,
            "pipelineInput": pipeline_input,
            "pipelineInputSummary": pipeline_input_summary,
            "currentStep": current_step,
            "totalSteps": total_steps,
        }
        body = make_body(fields, kwargs)
        return await self._post(_PATH, PipelineExecutionAsyncModel, body=body, options=options)

    async def update(
        self,
        pipeline_execution_id: str,
        *,
        pipeline_output: Optional[Dict[str, Any]] = None,
        pipeline_output_summary: Optional[str] = None,
        status: Optional[str] = None,
        progress_data: Optional[Dict[str, Any]] = None,
        current_step: Optional[int] = None,
        total_steps: Optional[int] = None,
        started_at: Optional[str] = None,
        completed_at: Optional[str] = None,
        failed_at: Optional[str] = None,
        cancelled_at: Optional[str] = None,
        paused_at: Optional[str] = None,
        **kwargs: Any,
    ) -> PipelineExecutionAsyncModel:
        """Update an execution, as a worker reporting progress and results would; only the
        arguments that are not ``None`` are sent.

        Args:
            pipeline_execution_id: The ID of the execution to update.
            pipeline_output: The output data (output name -> value).
            pipeline_output_summary: Human-readable summary of the output (up to 1000 chars).
            status: "pending", "running", "completed", "failed", "cancelled" or "paused"
                (transitions follow the execution life cycle, e.g. running -> paused).
            progress_data: Progress tracking data (replaces the whole object).
            current_step: The current step (0-based).
            total_steps: The total number of steps.
            started_at: When the execution started (ISO 8601).
            completed_at: When it completed.
            failed_at: When it failed.
            cancelled_at: When it was cancelled.
            paused_at: When it was paused.
            **kwargs: Other fields, sent with camelCase keys; the request options
                (``timeout``, ``idempotency_key``, ...) are taken out first.

        Raises:
            NotFoundError: If the execution doesn't exist.
            ValidationError: If the request data is invalid or the transition is not allowed.

        Wire: ``PATCH /pipeline-executions/{pipelineExecutionId}``
        """
        options, kwargs = split_options(kwargs)
        fields = {
            "pipelineOutput": pipeline_output,
            "pipelineOutputSummary": pipeline_output_summary,
            "status": status,
            "progressData": progress_data,
            "currentStep": current_step,
            "totalSteps": total_steps,
            "startedAt": started_at,
            "completedAt": completed_at,
            "failedAt": failed_at,
            "cancelledAt": cancelled_at,
            "pausedAt": paused_at,
        }
        path = _execution_path(pipeline_execution_id)
        body = make_body(fields, kwargs)
        return await self._patch(path, PipelineExecutionAsyncModel, body=body, options=options)

    async def cancel(
        self,
        pipeline_execution_id: str,
        *,
        reason: Optional[str] = None,
        **options: Unpack[RequestOptions],
    ) -> PipelineExecutionAsyncModel:
        """Cancel a pending, running or paused execution: it is ``cancelled`` at once and the
        engine starts no further block.

        Args:
            pipeline_execution_id: The ID of the execution to cancel.
            reason: Why (up to 500 chars); kept in ``progress_data["cancel_reason"]``.

        Raises:
            NotFoundError: If the execution doesn't exist.
            ExecutionNotCancellableError: If the execution has already finished (completed,
                failed or cancelled): the server's 409, both a ``ConflictError`` and the
                ``ValidationError`` 0.2.7 documented.

        Wire: ``POST /pipeline-executions/{pipelineExecutionId}/cancel``
        """
        path = f"{_execution_path(pipeline_execution_id)}/cancel"
        body = {"reason": reason} if reason is not None else {}
        try:
            return await self._post(path, PipelineExecutionAsyncModel, body=body, options=options)
        except ConflictError as exc:
            raise not_cancellable(exc, pipeline_execution_id) from None

    async def get_output(
        self, pipeline_execution_id: str, **options: Unpack[RequestOptions]
    ) -> Any:
        """The output of a completed execution (output name -> value).

        Small outputs come inline; large ones are stored in the object store (gzip-compressed
        JSON) and downloaded from the URL the server gives, checked against their size.

        Args:
            pipeline_execution_id: The ID of the execution.

        Returns:
            The output data, or ``None`` for an answer of an unknown kind.

        Raises:
            NotFoundError: If the execution doesn't exist, has not completed, or has no output.

        Wire: ``GET /pipeline-executions/{pipelineExecutionId}/output`` (then ``GET
        <downloadUrl>`` for a stored output)
        """
        answer = await self._client._request(
            "GET", f"{_execution_path(pipeline_execution_id)}/output", options=options
        )
        is_inline, data = inline_output(answer)
        if is_inline:
            return data
        stored = stored_output(answer)
        if stored is None:
            return None
        url, size, compression = stored
        what = f"output of pipeline execution {pipeline_execution_id}"
        async with DownloadSink(None, what=what, size=size) as sink:
            # The URL authenticates itself: it gets the timeout and retries, not the headers.
            receive = sink.receiver()
            await self._client._transfer("download", "GET", url, options=options, receive=receive)
            raw = await sink.finish()
        return decode_stored_output(raw or b"", compression)


def _execution_path(execution_id: str) -> str:
    return f"{_PATH}/{path_param(execution_id, 'pipeline_execution_id')}"
