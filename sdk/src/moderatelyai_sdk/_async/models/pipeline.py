"""Pipeline models: a pipeline, its configuration versions and its executions."""

import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, cast

from typing_extensions import Protocol, Unpack

from ... import _io_async
from ..._base_client import RequestOptions, path_param
from ..._exceptions import (
    PipelineExecutionCancelledError,
    PipelineExecutionFailedError,
    TimeoutError,
)
from ..._pipelines import (
    TERMINAL_STATUSES,
    change_key,
    failure_details,
    poll_delay,
    progress_message,
    progress_percentage,
)
from ...types.pipeline import Pipeline, PipelineConfigurationVersion, PipelineExecution
from .._pagination import AsyncPage

__all__ = [
    "PipelineAsyncModel",
    "PipelineConfigurationVersionAsyncModel",
    "PipelineExecutionAsyncModel",
    "PipelinesClient",
]

DEFAULT_POLL_INTERVAL = 2.0
DEFAULT_INPUT_SUMMARY = "Execution started from the SDK"

#: ``on_progress(execution)``: called by ``wait_for_completion`` whenever the status, the step
#: counts or ``progress_data`` change (and once at the start).
ProgressHandler = Callable[["PipelineExecutionAsyncModel"], object]


def _api(client: Any) -> "PipelinesClient":
    if client is None:
        raise RuntimeError("This object was not returned by a client, so it cannot call the API")
    return cast(PipelinesClient, client)


def _print_progress(execution: "PipelineExecutionAsyncModel") -> None:
    """The progress line ``show_progress=True`` asks for (0.2.7 compatibility)."""
    percent = execution.progress_percentage
    shown = f" ({percent:.0f}%)" if percent is not None else ""
    print(f"Pipeline execution {execution.status}{shown}: {execution.progress_message or ''}")


def _progress_handler(
    on_progress: Optional[ProgressHandler], extra: Dict[str, Any]
) -> Optional[ProgressHandler]:
    # 0.2.7 printed progress by default; here it is printed only when asked for.
    show = extra.pop("show_progress", False)
    return on_progress if on_progress is not None or not show else _print_progress


async def _list_executions(
    client: Any,
    *,
    status: Optional[str],
    statuses: Optional[List[str]],
    page: int,
    page_size: int,
    pipeline_ids: Optional[List[str]] = None,
    pipeline_configuration_version_ids: Optional[List[str]] = None,
) -> List["PipelineExecutionAsyncModel"]:
    # Newest first, said explicitly: the server's default is oldest first.
    found = await _api(client).pipeline_executions.list(
        pipeline_ids=pipeline_ids,
        pipeline_configuration_version_ids=pipeline_configuration_version_ids,
        status=status,
        statuses=statuses,
        page=page,
        page_size=page_size,
        order_by="createdAt",
        order_direction="desc",
    )
    return found.data


async def _execute(
    client: Any,
    version_id: str,
    *,
    pipeline_input: Dict[str, Any],
    pipeline_input_summary: Optional[str],
    block: bool,
    timeout: Optional[float],
    poll_interval: float,
    on_progress: Optional[ProgressHandler],
    extra: Dict[str, Any],
) -> "PipelineExecutionAsyncModel":
    handler = _progress_handler(on_progress, extra)
    execution = await _api(client).pipeline_executions.create(
        pipeline_configuration_version_id=version_id,
        pipeline_input=pipeline_input,
        pipeline_input_summary=pipeline_input_summary or DEFAULT_INPUT_SUMMARY,
        **extra,
    )
    if not block:
        return execution
    return await execution.wait_for_completion(
        timeout=timeout, poll_interval=poll_interval, on_progress=handler
    )


class PipelineExecutionAsyncModel(PipelineExecution):
    """One run of a configuration version, with its status, progress and output.

    Attributes: ``pipeline_execution_id`` (also ``execution_id``),
    ``pipeline_configuration_version_id`` (also ``configuration_version_id``), ``pipeline_id``,
    ``pipeline_input``, ``pipeline_input_summary``, ``pipeline_output``,
    ``pipeline_output_summary``, ``pipeline_output_file_uri``, ``status``, ``progress_data``,
    ``current_step``, ``total_steps`` and the timestamps; wire keys work too
    (``execution["pipelineExecutionId"]``).
    """

    @property
    def execution_id(self) -> str:
        """The execution's ID (``pipelineExecutionId``)."""
        return self.pipeline_execution_id

    @property
    def configuration_version_id(self) -> str:
        """The executed configuration version (``pipelineConfigurationVersionId``)."""
        return self.pipeline_configuration_version_id

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"

    @property
    def is_running(self) -> bool:
        return self.status == "running"

    @property
    def is_paused(self) -> bool:
        return self.status == "paused"

    @property
    def is_completed(self) -> bool:
        return self.status == "completed"

    @property
    def is_failed(self) -> bool:
        return self.status == "failed"

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Completed, failed or cancelled: the status will not change any more."""
        return self.status in TERMINAL_STATUSES

    @property
    def progress_percentage(self) -> Optional[float]:
        """``current_step / total_steps * 100``, or ``None`` while either is unknown."""
        return progress_percentage(self.current_step, self.total_steps)

    @property
    def current_block(self) -> Optional[str]:
        """The block the engine is running now (``progress_data["current_block"]``)."""
        block = self.progress_data.get("current_block")
        return block if isinstance(block, str) else None

    @property
    def progress_message(self) -> Optional[str]:
        """The engine's progress text (``message``, else ``status``, else the current block)."""
        return progress_message(self.progress_data)

    @property
    def failed_block(self) -> Optional[str]:
        """The block whose error failed the execution, if it failed."""
        return failure_details(self.progress_data)[1] if self.is_failed else None

    @property
    def error(self) -> Optional[str]:
        """Why the execution failed (every error, joined with ``"; "``), if it failed."""
        return failure_details(self.progress_data)[0] if self.is_failed else None

    async def refresh(self) -> "PipelineExecutionAsyncModel":
        """Reload this execution from the API; returns this same object.

        Wire: ``GET /pipeline-executions/{pipelineExecutionId}``
        """
        fresh = await _api(self._client).pipeline_executions.retrieve(self.pipeline_execution_id)
        self._replace_with(fresh)
        return self

    async def wait_for_completion(
        self,
        *,
        timeout: Optional[float] = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_progress: Optional[ProgressHandler] = None,
    ) -> "PipelineExecutionAsyncModel":
        """Poll until the execution finishes; returns this same object, completed.

        Polls quickly at first, then every ``poll_interval`` seconds. Prints nothing.

        Args:
            timeout: Give up after this many seconds (default: wait as long as it takes).
            poll_interval: Longest pause between two polls, in seconds. Defaults to 2.
            on_progress: Called with this object whenever its status, step counts or
                ``progress_data`` change, and once at the start.

        Raises:
            PipelineExecutionFailedError: If it failed (``failed_block``, ``error_type``,
                ``errors``; ``message`` joins the errors).
            PipelineExecutionCancelledError: If it was cancelled (``reason``).
            TimeoutError: If it has not finished after ``timeout`` seconds (it keeps running).

        Wire: ``GET /pipeline-executions/{pipelineExecutionId}`` (repeated)
        """
        started = time.monotonic()
        seen: Optional[str] = None
        attempt = 0
        while True:
            await self.refresh()
            key = change_key(self.status, self.current_step, self.total_steps, self.progress_data)
            if on_progress is not None and key != seen:
                on_progress(self)
            seen = key
            if self.is_terminal:
                return self._finished()
            delay = poll_delay(attempt, poll_interval)
            if timeout is not None:
                left = timeout - (time.monotonic() - started)
                if left <= 0:
                    raise TimeoutError(
                        f"Pipeline execution {self.pipeline_execution_id} is still {self.status}"
                        f" after {timeout:g} s"
                    )
                delay = min(delay, left)
            await _io_async.sleep(delay)
            attempt += 1

    def _finished(self) -> "PipelineExecutionAsyncModel":
        data = dict(self.progress_data)
        if self.status == "failed":
            message, block, error_type, errors = failure_details(data)
            raise PipelineExecutionFailedError(
                f"Pipeline execution failed: {message}",
                execution=self,
                execution_id=self.pipeline_execution_id,
                progress_data=data,
                failed_block=block,
                error_type=error_type,
                errors=errors,
            )
        if self.status == "cancelled":
            reason = data.get("cancel_reason") or data.get("cancellationReason")
            reason = reason if isinstance(reason, str) and reason else None
            raise PipelineExecutionCancelledError(
                "Pipeline execution was cancelled" + (f": {reason}" if reason else ""),
                execution=self,
                execution_id=self.pipeline_execution_id,
                progress_data=data,
                reason=reason,
            )
        return self

    async def cancel(self, *, reason: Optional[str] = None) -> "PipelineExecutionAsyncModel":
        """Cancel this execution; returns this same object, now ``cancelled``.

        Raises:
            ConflictError: If it has already finished.

        Wire: ``POST /pipeline-executions/{pipelineExecutionId}/cancel``
        """
        api = _api(self._client)
        fresh = await api.pipeline_executions.cancel(self.pipeline_execution_id, reason=reason)
        self._replace_with(fresh)
        return self

    async def get_output(self) -> Any:
        """The output (output name -> value), inline or downloaded from the object store.

        Raises:
            NotFoundError: If the execution has not completed or has no output.

        Wire: ``GET /pipeline-executions/{pipelineExecutionId}/output`` (then ``GET
        <downloadUrl>`` for a stored output)
        """
        return await _api(self._client).pipeline_executions.get_output(self.pipeline_execution_id)


class PipelineConfigurationVersionAsyncModel(PipelineConfigurationVersion):
    """A numbered configuration version of a pipeline.

    Attributes: ``pipeline_configuration_version_id`` (also ``configuration_version_id``),
    ``pipeline_id``, ``configuration`` (the document), ``version`` (the number), ``status``,
    ``created_at``, ``updated_at``; wire keys work too.
    """

    @property
    def configuration_version_id(self) -> str:
        """The version's ID (``pipelineConfigurationVersionId``)."""
        return self.pipeline_configuration_version_id

    @property
    def is_current(self) -> bool:
        return self.status == "current"

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @property
    def is_archived(self) -> bool:
        return self.status == "archived"

    async def refresh(self) -> "PipelineConfigurationVersionAsyncModel":
        """Reload this version from the API; returns this same object.

        Wire: ``GET /pipeline-configuration-versions/{pipelineConfigurationVersionId}``
        """
        api = _api(self._client)
        fresh = await api.pipeline_configuration_versions.retrieve(self.configuration_version_id)
        self._replace_with(fresh)
        return self

    async def update(
        self, *, configuration: Optional[Dict[str, Any]] = None, **kwargs: Any
    ) -> "PipelineConfigurationVersionAsyncModel":
        """Change the configuration or (``status=``) the status; returns this same object.

        Raises:
            ValidationError: If the configuration is invalid or this version is current.
            ConflictError: If it would make a second current version.

        Wire: ``PATCH /pipeline-configuration-versions/{pipelineConfigurationVersionId}``
        """
        api = _api(self._client)
        fresh = await api.pipeline_configuration_versions.update(
            self.configuration_version_id, configuration=configuration, **kwargs
        )
        self._replace_with(fresh)
        return self

    async def delete(self) -> None:
        """Delete this version (a current one must be archived first).

        Wire: ``DELETE /pipeline-configuration-versions/{pipelineConfigurationVersionId}``
        """
        await _api(self._client).pipeline_configuration_versions.delete(
            self.configuration_version_id
        )

    async def clone(self) -> "PipelineConfigurationVersionAsyncModel":
        """A copy of this version: the pipeline's next number, ``draft`` status.

        Wire: ``POST /pipeline-configuration-versions/{pipelineConfigurationVersionId}/clone``
        """
        return await _api(self._client).pipeline_configuration_versions.clone(
            self.configuration_version_id
        )

    async def validate(self) -> Dict[str, Any]:  # type: ignore[override]  # pydantic v1 name
        """The validation report of this version's configuration (``valid``, ``errors``,
        ``warnings``, ``inputSchema``, ``outputSchema``).

        Wire: ``POST /pipeline-configuration-versions/validate``
        """
        return await _api(self._client).pipeline_configuration_versions.validate(self.configuration)

    async def execute(
        self,
        *,
        pipeline_input: Dict[str, Any],
        pipeline_input_summary: Optional[str] = None,
        block: bool = False,
        timeout: Optional[float] = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_progress: Optional[ProgressHandler] = None,
        **kwargs: Any,
    ) -> PipelineExecutionAsyncModel:
        """Execute this version (drafts too).

        Args:
            pipeline_input: Input block id -> value.
            pipeline_input_summary: Human-readable summary of the input (default: a fixed
                text).
            block: Wait for the execution to finish (see
                ``PipelineExecutionAsyncModel.wait_for_completion``).
            timeout: With ``block``, give up after this many seconds (``TimeoutError``).
            poll_interval: With ``block``, longest pause between polls. Defaults to 2.
            on_progress: With ``block``, called with the execution on each change.
            **kwargs: Other fields for the create request (camelCase keys);
                ``show_progress=True`` prints progress lines while blocking.

        Returns:
            The execution: as created, or finished when ``block`` is true.

        Raises:
            ValidationError: If the configuration or the input is invalid.
            PipelineExecutionFailedError, PipelineExecutionCancelledError, TimeoutError: With
                ``block``, as ``wait_for_completion``.

        Wire: ``POST /pipeline-executions`` (then ``GET /pipeline-executions/{id}`` polls)
        """
        return await _execute(
            self._client,
            self.configuration_version_id,
            pipeline_input=pipeline_input,
            pipeline_input_summary=pipeline_input_summary,
            block=block,
            timeout=timeout,
            poll_interval=poll_interval,
            on_progress=on_progress,
            extra=kwargs,
        )

    async def list_executions(
        self,
        *,
        status: Optional[str] = None,
        statuses: Optional[List[str]] = None,
        page: int = 1,
        page_size: int = 10,
    ) -> List[PipelineExecutionAsyncModel]:
        """This version's executions, newest first (one page).

        Wire: ``GET /pipeline-executions?pipelineConfigurationVersionIds=<id>&orderBy=createdAt
        &orderDirection=desc``
        """
        return await _list_executions(
            self._client,
            status=status,
            statuses=statuses,
            page=page,
            page_size=page_size,
            pipeline_configuration_version_ids=[self.configuration_version_id],
        )

    async def get_latest_execution(self) -> Optional[PipelineExecutionAsyncModel]:
        """This version's most recent execution, or ``None``.

        Wire: ``GET /pipeline-executions?pipelineConfigurationVersionIds=<id>&pageSize=1
        &orderBy=createdAt&orderDirection=desc``
        """
        found = await self.list_executions(page_size=1)
        return found[0] if found else None

    async def get_pipeline(self) -> "PipelineAsyncModel":
        """The pipeline this version belongs to.

        Wire: ``GET /pipelines/{pipelineId}``
        """
        return await _api(self._client).pipelines.retrieve(self.pipeline_id)


class PipelineAsyncModel(Pipeline):
    """A pipeline with rich operations: configuration versions, executions and run metrics.

    Attributes: ``pipeline_id``, ``team_id``, ``name``, ``description``, ``created_at``,
    ``updated_at``, ``last_run_at``, ``total_runs``, ``successful_runs``, ``success_rate``
    (percentage); wire keys work too (``pipeline["pipelineId"]``).
    """

    async def refresh(self) -> "PipelineAsyncModel":
        """Reload this pipeline (and its run metrics) from the API; returns this same object.

        Wire: ``GET /pipelines/{pipelineId}``
        """
        self._replace_with(await _api(self._client).pipelines.retrieve(self.pipeline_id))
        return self

    async def update(
        self, *, name: Optional[str] = None, description: Optional[str] = None, **kwargs: Any
    ) -> "PipelineAsyncModel":
        """Change the name or description; returns this same object, updated.

        Raises:
            ConflictError: If another pipeline of the team has the new name.

        Wire: ``PATCH /pipelines/{pipelineId}``
        """
        fresh = await _api(self._client).pipelines.update(
            self.pipeline_id, name=name, description=description, **kwargs
        )
        self._replace_with(fresh)
        return self

    async def delete(self) -> None:
        """Delete this pipeline with its configuration versions and executions.

        Wire: ``DELETE /pipelines/{pipelineId}``
        """
        await _api(self._client).pipelines.delete(self.pipeline_id)

    async def create_configuration_version(
        self, *, configuration: Dict[str, Any], **kwargs: Any
    ) -> PipelineConfigurationVersionAsyncModel:
        """Create a configuration version of this pipeline (``status=`` "draft" by default, or
        "current").

        Raises:
            ValidationError: If the document is structurally invalid.
            ConflictError: If ``status="current"`` while another version is current.

        Wire: ``POST /pipeline-configuration-versions``
        """
        return await _api(self._client).pipeline_configuration_versions.create(
            pipeline_id=self.pipeline_id, configuration=configuration, **kwargs
        )

    async def list_configuration_versions(
        self, *, status: Optional[str] = None, page: int = 1, page_size: int = 10
    ) -> List[PipelineConfigurationVersionAsyncModel]:
        """This pipeline's configuration versions, newest (highest number) first (one page).

        Args:
            status: Only versions in this status ("draft", "current" or "archived").
            page: Page number (1-based). Defaults to 1.
            page_size: Versions per page (1-1000). Defaults to 10.

        Wire: ``GET /pipeline-configuration-versions?pipelineIds=<id>&orderBy=version
        &orderDirection=desc``
        """
        # The list has no status parameter of its own; the wire filter goes as a query option.
        options: RequestOptions = {"extra_query": {"status": status}} if status else {}
        found = await _api(self._client).pipeline_configuration_versions.list(
            pipeline_ids=[path_param(self.pipeline_id, "pipeline_id")],
            page=page,
            page_size=page_size,
            order_by="version",
            order_direction="desc",
            **options,
        )
        return found.data

    async def get_current_configuration_version(
        self,
    ) -> Optional[PipelineConfigurationVersionAsyncModel]:
        """The version whose status is ``current``, or ``None``.

        Wire: ``GET /pipeline-configuration-versions?pipelineIds=<id>&status=current``
        """
        found = await self.list_configuration_versions(status="current", page_size=1)
        return found[0] if found else None

    async def execute(
        self,
        *,
        configuration_version_id: Optional[str] = None,
        pipeline_input: Dict[str, Any],
        pipeline_input_summary: Optional[str] = None,
        block: bool = False,
        timeout: Optional[float] = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_progress: Optional[ProgressHandler] = None,
        **kwargs: Any,
    ) -> PipelineExecutionAsyncModel:
        """Execute a configuration version of this pipeline: ``configuration_version_id``, or
        the current one.

        Args:
            configuration_version_id: The version to execute; default: the current version.
            pipeline_input: Input block id -> value.
            pipeline_input_summary: Human-readable summary of the input (default: a fixed
                text).
            block: Wait for the execution to finish (see
                ``PipelineExecutionAsyncModel.wait_for_completion``).
            timeout: With ``block``, give up after this many seconds (``TimeoutError``).
            poll_interval: With ``block``, longest pause between polls. Defaults to 2.
            on_progress: With ``block``, called with the execution on each change.
            **kwargs: Other fields for the create request (camelCase keys);
                ``show_progress=True`` prints progress lines while blocking.

        Raises:
            ValueError: If no version is given and the pipeline has no current one.
            ValidationError: If the configuration or the input is invalid.
            PipelineExecutionFailedError, PipelineExecutionCancelledError, TimeoutError: With
                ``block``, as ``wait_for_completion``.

        Wire: ``GET /pipeline-configuration-versions?pipelineIds=<id>&status=current`` (without
        a version), ``POST /pipeline-executions`` (then ``GET /pipeline-executions/{id}`` polls)
        """
        if configuration_version_id is None:
            current = await self.get_current_configuration_version()
            if current is None:
                raise ValueError(
                    f"Pipeline {self.pipeline_id} has no current configuration version: pass "
                    "configuration_version_id= or make a version current"
                )
            configuration_version_id = current.configuration_version_id
        return await _execute(
            self._client,
            configuration_version_id,
            pipeline_input=pipeline_input,
            pipeline_input_summary=pipeline_input_summary,
            block=block,
            timeout=timeout,
            poll_interval=poll_interval,
            on_progress=on_progress,
            extra=kwargs,
        )

    async def list_executions(
        self,
        *,
        status: Optional[str] = None,
        statuses: Optional[List[str]] = None,
        page: int = 1,
        page_size: int = 10,
    ) -> List[PipelineExecutionAsyncModel]:
        """Executions of this pipeline's versions, newest first (one page).

        Args:
            status: Only executions in this status.
            statuses: Only executions in one of these statuses.
            page: Page number (1-based). Defaults to 1.
            page_size: Executions per page (1-1000). Defaults to 10.

        Wire: ``GET /pipeline-executions?pipelineIds=<id>&orderBy=createdAt&orderDirection=desc``
        """
        return await _list_executions(
            self._client,
            status=status,
            statuses=statuses,
            page=page,
            page_size=page_size,
            pipeline_ids=[path_param(self.pipeline_id, "pipeline_id")],
        )

    async def get_latest_execution(self) -> Optional[PipelineExecutionAsyncModel]:
        """This pipeline's most recent execution, or ``None``.

        Wire: ``GET /pipeline-executions?pipelineIds=<id>&pageSize=1&orderBy=createdAt
        &orderDirection=desc``
        """
        found = await self.list_executions(page_size=1)
        return found[0] if found else None


# --- what the models call: the client's pipeline resources, typed here rather than imported (the
# resources import these models; a protocol keeps the import graph acyclic) --------------------

_ExecutionPage = AsyncPage[PipelineExecutionAsyncModel]
_VersionPage = AsyncPage[PipelineConfigurationVersionAsyncModel]


class _Executions(Protocol):
    def list(
        self,
        *,
        pipeline_ids: Optional[List[str]] = None,
        pipeline_configuration_version_ids: Optional[List[str]] = None,
        status: Optional[str] = None,
        statuses: Optional[List[str]] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: Optional[str] = None,
        order_direction: str = "asc",
    ) -> Awaitable[_ExecutionPage]: ...

    async def retrieve(self, pipeline_execution_id: str) -> PipelineExecutionAsyncModel: ...

    async def create(
        self,
        *,
        pipeline_configuration_version_id: str,
        pipeline_input: Dict[str, Any],
        pipeline_input_summary: str,
        **kwargs: Any,
    ) -> PipelineExecutionAsyncModel: ...

    async def cancel(
        self, pipeline_execution_id: str, *, reason: Optional[str] = None
    ) -> PipelineExecutionAsyncModel: ...

    async def get_output(self, pipeline_execution_id: str) -> Any: ...


class _ConfigurationVersions(Protocol):
    def list(
        self,
        *,
        pipeline_ids: Optional[List[str]] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: Optional[str] = None,
        order_direction: str = "asc",
        **options: Unpack[RequestOptions],
    ) -> Awaitable[_VersionPage]: ...

    async def retrieve(
        self, pipeline_configuration_version_id: str
    ) -> PipelineConfigurationVersionAsyncModel: ...

    async def create(
        self, *, pipeline_id: str, configuration: Dict[str, Any], **kwargs: Any
    ) -> PipelineConfigurationVersionAsyncModel: ...

    async def update(
        self,
        pipeline_configuration_version_id: str,
        *,
        configuration: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PipelineConfigurationVersionAsyncModel: ...

    async def delete(self, pipeline_configuration_version_id: str) -> None: ...

    async def clone(
        self, pipeline_configuration_version_id: str
    ) -> PipelineConfigurationVersionAsyncModel: ...

    async def validate(self, configuration: Dict[str, Any]) -> Dict[str, Any]: ...


class _Pipelines(Protocol):
    async def retrieve(self, pipeline_id: str) -> PipelineAsyncModel: ...

    async def update(
        self,
        pipeline_id: str,
        *,
        name: Optional[str] = None,
        description: Optional[str] = None,
        **kwargs: Any,
    ) -> PipelineAsyncModel: ...

    async def delete(self, pipeline_id: str) -> None: ...


class PipelinesClient(Protocol):
    """A client, as far as the pipeline models use it: ``pipelines``,
    ``pipeline_configuration_versions`` and ``pipeline_executions``."""

    @property
    def pipelines(self) -> _Pipelines: ...

    @property
    def pipeline_configuration_versions(self) -> _ConfigurationVersions: ...

    @property
    def pipeline_executions(self) -> _Executions: ...
