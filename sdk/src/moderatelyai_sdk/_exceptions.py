"""Exceptions raised by the SDK.

Tree (every HTTP-derived error is an ``APIError`` and carries ``status_code``, ``request_id``
and the parsed body as ``response_data``)::

    ModeratelyAIError
    ├── APIError
    │   ├── ValidationError           400 with a list of field details
    │   ├── AuthenticationError       401
    │   │   └── PermissionDeniedError 403
    │   ├── NotFoundError             404
    │   ├── ConflictError             409
    │   │   └── ExecutionNotCancellableError  409 to a cancel: the execution has finished (also
    │   │                                     a ValidationError, which 0.2.7 documented)
    │   ├── UnprocessableEntityError  422
    │   └── RateLimitError            429
    ├── ProcessingError               dataset processing failed; carries the server's report
    ├── PipelineExecutionError        a waited-on pipeline execution did not complete
    │   ├── PipelineExecutionFailedError     it failed: failing block, error type, errors
    │   └── PipelineExecutionCancelledError  it was cancelled: the reason
    ├── AgentExecutionError           a waited-on agent execution did not complete
    │   ├── AgentExecutionFailedError        it failed: the reason
    │   └── AgentExecutionCancelledError     it was cancelled
    └── TimeoutError                  0.2.7's error for any request that got no answer (also a
        │                             builtin TimeoutError)
        └── APIConnectionError        no answer: refused or reset connection, DNS, a server that
            │                         hung up; carries the ``request`` that failed
            └── APITimeoutError       no answer within the timeout

Constructors keep the positional forms of moderatelyai-sdk 0.2.7 (message first) so code that
raises or builds these errors itself keeps working; everything added since is keyword-only.
"""

import builtins
from typing import Any, Dict, List, Optional

import httpx

__all__ = [
    "ModeratelyAIError",
    "APIError",
    "ValidationError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "ExecutionNotCancellableError",
    "UnprocessableEntityError",
    "RateLimitError",
    "ProcessingError",
    "PipelineExecutionError",
    "PipelineExecutionFailedError",
    "PipelineExecutionCancelledError",
    "AgentExecutionError",
    "AgentExecutionFailedError",
    "AgentExecutionCancelledError",
    "TimeoutError",
    "APIConnectionError",
    "APITimeoutError",
]


class ModeratelyAIError(Exception):
    """Base class of every error raised by the SDK."""

    def __init__(self, message: str, details: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: Dict[str, Any] = details if details is not None else {}

    def __str__(self) -> str:
        return self.message


class APIError(ModeratelyAIError):
    """The API answered with an error status (or with a body that could not be read)."""

    def __init__(
        self,
        message: str,
        status_code: Optional[int] = None,
        response_data: Any = None,
        request_id: Optional[str] = None,
        *,
        response: Optional[httpx.Response] = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.response_data = response_data
        self.request_id = request_id
        self.response = response

    @property
    def body(self) -> Any:
        """The parsed JSON body of the error response (alias of ``response_data``)."""
        return self.response_data

    def __str__(self) -> str:
        parts = [self.message]
        if self.status_code is not None:
            parts.append(f"Status: {self.status_code}")
        if self.request_id:
            parts.append(f"Request ID: {self.request_id}")
        return " | ".join(parts)


class ValidationError(APIError):
    """The request was rejected as invalid (400); ``validation_details`` lists the fields."""

    def __init__(
        self,
        message: str,
        details: Optional[List[Dict[str, Any]]] = None,
        *,
        status_code: Optional[int] = 400,
        response_data: Any = None,
        request_id: Optional[str] = None,
        response: Optional[httpx.Response] = None,
    ) -> None:
        super().__init__(message, status_code, response_data, request_id, response=response)
        self.validation_details: List[Dict[str, Any]] = list(details or [])

    def __str__(self) -> str:
        text = super().__str__()
        details = self.validation_details
        if not details:
            return text
        lines = [f"  - {describe_detail(d)}" for d in details[:_SHOWN_DETAILS]]
        if len(details) > _SHOWN_DETAILS:
            lines.append(f"  ... and {len(details) - _SHOWN_DETAILS} more (validation_details)")
        return "\n".join([text, "Validation errors:", *lines])


_SHOWN_DETAILS = 20


def _name(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _endpoint(detail: Dict[str, Any], block: str, port: str) -> str:
    """``block.port`` of one end of a connection (what is known of it)."""
    return ".".join(part for part in (_name(detail.get(block)), _name(detail.get(port))) if part)


def describe_detail(detail: Any) -> str:
    """One item of a 400's ``details`` as a line: where the problem is, then the message.

    Request fields: ``{field, message, value?}`` (``loc`` or ``path`` lists from other
    validators too) → ``<field>: message``. Pipeline configurations (the server's validation
    report, platform/src/moderately/engine/report.py): ``{type: "block_type_error", blockId,
    blockType, errorType, message, portName?, ...}`` → ``block <id> (<type>): message``, the
    document itself (empty ``blockId``) → ``configuration: message``; ``{type:
    "connection_error", connectionId, sourceBlockId, sourcePort, targetBlockId, targetPort, ...}``
    → ``connection <block.port> -> <block.port>: message``. Anything else is its message (or the
    whole item).
    """
    if not isinstance(detail, dict):
        return str(detail)
    message = _name(detail.get("message")) or _name(detail.get("errorType")) or str(detail)
    field = detail.get("field")
    if field is None:
        field = detail.get("loc", detail.get("path"))
    if isinstance(field, (list, tuple)):
        field = ".".join(str(part) for part in field)
    if field not in (None, ""):
        return f"{field}: {message}"
    source = _endpoint(detail, "sourceBlockId", "sourcePort")
    target = _endpoint(detail, "targetBlockId", "targetPort")
    block = _name(detail.get("blockId") or detail.get("block"))
    if detail.get("type") == "connection_error" or (not block and (source or target)):
        if source or target:
            where = f"connection {source or '?'} -> {target or '?'}"
        else:
            number = _name(detail.get("connectionId"))
            where = f"connection {number}" if number else "connection"
        return f"{where}: {message}"
    if block:
        kind = _name(detail.get("blockType"))
        return f"block {block} ({kind}): {message}" if kind else f"block {block}: {message}"
    if detail.get("type") == "block_type_error":
        return f"configuration: {message}"
    return message


class _FixedStatusError(APIError):
    """An ``APIError`` whose status is implied by its class."""

    _status: int = 0
    _default_message: str = ""

    def __init__(
        self,
        message: Optional[str] = None,
        *,
        status_code: Optional[int] = None,
        response_data: Any = None,
        request_id: Optional[str] = None,
        response: Optional[httpx.Response] = None,
    ) -> None:
        super().__init__(
            message if message is not None else self._default_message,
            status_code if status_code is not None else self._status,
            response_data,
            request_id,
            response=response,
        )


class AuthenticationError(_FixedStatusError):
    """The API key is missing, unknown, expired or inactive (401)."""

    _status = 401
    _default_message = "Authentication failed"


class PermissionDeniedError(AuthenticationError):
    """The API key is valid but not allowed to do this (403)."""

    _status = 403
    _default_message = "Permission denied"


class NotFoundError(_FixedStatusError):
    """The resource does not exist or belongs to a team you are not in (404)."""

    _status = 404
    _default_message = "Resource not found"


class ConflictError(_FixedStatusError):
    """The request conflicts with the current state, e.g. a duplicate name (409)."""

    _status = 409
    _default_message = "Request conflicts with current state"


class ExecutionNotCancellableError(ConflictError, ValidationError):
    """The execution has already finished (completed, failed or cancelled), so it cannot be
    cancelled; the server answers 409.

    Raised by ``pipeline_executions.cancel``, ``agent_executions.cancel`` and the models'
    ``cancel``. moderatelyai-sdk 0.2.7 documented a ``ValidationError`` here, the API answers a
    conflict: this error is both, so ``except ValidationError`` and ``except ConflictError``
    each catch it. ``execution_id`` is the execution's ID.
    """

    _status = 409
    _default_message = "The execution has already finished and cannot be cancelled"

    def __init__(
        self,
        message: Optional[str] = None,
        details: Optional[List[Dict[str, Any]]] = None,
        *,
        status_code: Optional[int] = None,
        response_data: Any = None,
        request_id: Optional[str] = None,
        response: Optional[httpx.Response] = None,
        execution_id: Optional[str] = None,
    ) -> None:
        # Both bases' constructors take other positional forms: set up APIError once, then
        # what ValidationError adds.
        APIError.__init__(
            self,
            message if message is not None else self._default_message,
            status_code if status_code is not None else self._status,
            response_data,
            request_id,
            response=response,
        )
        self.validation_details = list(details or [])
        self.execution_id = execution_id


class UnprocessableEntityError(_FixedStatusError):
    """The request was well-formed but could not be processed (422)."""

    _status = 422
    _default_message = "Unprocessable entity"


class RateLimitError(APIError):
    """Too many requests (429); ``retry_after`` is the server's hint in seconds, if it sent one."""

    def __init__(
        self,
        message: str = "Rate limit exceeded",
        retry_after: Optional[int] = None,
        *,
        status_code: Optional[int] = 429,
        response_data: Any = None,
        request_id: Optional[str] = None,
        response: Optional[httpx.Response] = None,
    ) -> None:
        super().__init__(message, status_code, response_data, request_id, response=response)
        self.retry_after = retry_after


class ProcessingError(ModeratelyAIError):
    """Processing a dataset failed, or is not running when someone waits for it.

    ``message`` is the server's one-line reason (``processingError``); ``report`` is its error
    report (``processingReport``: ``errorCount``, ``counts`` per kind, ``columnCounts``, and the
    first ``errors``, each naming ``kind``, ``row``, ``line``, ``column``, ``value`` and
    ``message``), also in ``details``; ``status`` is the dataset's ``processingStatus``.
    """

    def __init__(
        self,
        message: str,
        *,
        dataset_id: Optional[str] = None,
        status: Optional[str] = None,
        report: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(message, dict(report) if report else None)
        self.dataset_id = dataset_id
        self.status = status
        self.report = report

    @property
    def errors(self) -> List[Dict[str, Any]]:
        """The first errors of the report (capped by the server; ``report["errorCount"]`` has
        the total)."""
        errors = (self.report or {}).get("errors")
        return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []

    def __str__(self) -> str:
        lines = [self.message]
        for error in self.errors[:5]:
            where = [
                f"{key} {error[key]!r}" if key == "column" else f"{key} {error[key]}"
                for key in ("row", "line", "column")
                if error.get(key) is not None
            ]
            lines.append(
                f"  - {', '.join(where) or error.get('kind', '?')}: {error.get('message')}"
            )
        return "\n".join(lines)


class PipelineExecutionError(ModeratelyAIError):
    """A pipeline execution that someone waited for ended without completing.

    ``execution`` is the final execution model (``PipelineExecutionModel`` or its async twin),
    ``execution_id`` and ``status`` its id and status; ``details`` is its ``progressData``.
    """

    def __init__(
        self,
        message: str,
        *,
        execution: Any = None,
        execution_id: Optional[str] = None,
        status: Optional[str] = None,
        progress_data: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(message, dict(progress_data) if progress_data else None)
        self.execution = execution
        self.execution_id = execution_id
        self.status = status
        self.progress_data: Dict[str, Any] = dict(progress_data or {})


class PipelineExecutionFailedError(PipelineExecutionError):
    """The execution failed: ``failed_block`` is the block that raised, ``error_type`` the
    engine's code (``reference_not_found``, ``internal_error``, ...), ``errors`` every error
    message (``message`` joins them with ``"; "``)."""

    def __init__(
        self,
        message: str,
        *,
        execution: Any = None,
        execution_id: Optional[str] = None,
        progress_data: Optional[Dict[str, Any]] = None,
        failed_block: Optional[str] = None,
        error_type: Optional[str] = None,
        errors: Optional[List[str]] = None,
    ) -> None:
        super().__init__(
            message,
            execution=execution,
            execution_id=execution_id,
            status="failed",
            progress_data=progress_data,
        )
        self.failed_block = failed_block
        self.error_type = error_type
        self.errors: List[str] = list(errors or [])

    def __str__(self) -> str:
        # The engine's errors read "Block '<id>' (<type>) failed: ..."; name the block when the
        # message does not (e.g. an error the engine reported before or after the blocks ran).
        block = self.failed_block
        if block and f"'{block}'" not in self.message:
            return f"{self.message} (failed block: '{block}')"
        return self.message


class PipelineExecutionCancelledError(PipelineExecutionError):
    """The execution was cancelled; ``reason`` is the reason given to ``cancel``, if any."""

    def __init__(
        self,
        message: str,
        *,
        execution: Any = None,
        execution_id: Optional[str] = None,
        progress_data: Optional[Dict[str, Any]] = None,
        reason: Optional[str] = None,
    ) -> None:
        super().__init__(
            message,
            execution=execution,
            execution_id=execution_id,
            status="cancelled",
            progress_data=progress_data,
        )
        self.reason = reason


class AgentExecutionError(ModeratelyAIError):
    """An agent execution that someone waited for ended without completing.

    ``execution`` is the final ``AgentExecution``, ``execution_id`` and ``status`` its id and
    status.
    """

    def __init__(
        self,
        message: str,
        *,
        execution: Any = None,
        execution_id: Optional[str] = None,
        status: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.execution = execution
        self.execution_id = execution_id
        self.status = status


class AgentExecutionFailedError(AgentExecutionError):
    """The execution failed; ``reason`` is why (from its ``agentOutputSummary``, e.g. a timeout,
    an exhausted action budget or a provider error)."""

    def __init__(
        self,
        message: str,
        *,
        execution: Any = None,
        execution_id: Optional[str] = None,
        reason: Optional[str] = None,
    ) -> None:
        super().__init__(message, execution=execution, execution_id=execution_id, status="failed")
        self.reason = reason


class AgentExecutionCancelledError(AgentExecutionError):
    """The execution was cancelled before it finished."""

    def __init__(
        self, message: str, *, execution: Any = None, execution_id: Optional[str] = None
    ) -> None:
        super().__init__(
            message, execution=execution, execution_id=execution_id, status="cancelled"
        )


class TimeoutError(ModeratelyAIError, builtins.TimeoutError):
    """The request timed out or the connection failed, on every attempt.

    Also a subclass of Python's builtin ``TimeoutError``, so either ``except`` form catches it.
    """

    def __init__(self, message: str = "Request timed out") -> None:
        super().__init__(message)


class APIConnectionError(TimeoutError):
    """No answer came: the connection was refused or reset, the name did not resolve, or the
    server hung up, on every attempt.

    A subclass of ``TimeoutError`` because moderatelyai-sdk 0.2.7 raised that for every request
    without an answer; code written for it (``except TimeoutError``) keeps working.
    ``request`` is the ``httpx.Request`` of the last attempt, when there was one.
    """

    def __init__(
        self, message: str = "Connection error", *, request: Optional[httpx.Request] = None
    ) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout, on every attempt."""

    def __init__(
        self, message: str = "Request timed out", *, request: Optional[httpx.Request] = None
    ) -> None:
        super().__init__(message, request=request)
