"""Errors raised by the engine: a block failure, an invalid configuration, an invalid input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .report import ValidationReport


class BlockError(Exception):
    """A block failed; `error_type` is the code the execution reports (e.g. `resource_limit`).

    Raise it from `run`; any other exception fails the block with `internal_error`.
    """

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def internal_error_text(exc: BaseException) -> str:
    """What an execution may say about an unexpected exception: its kind, never its text, which
    can name server paths, object keys, SQL or URLs (the server's log has it, with a traceback)."""
    return f"an internal error ({type(exc).__name__}); the server's log has the details"


class InvalidConfiguration(Exception):
    """The configuration does not pass validation; `report` says why."""

    def __init__(self, report: ValidationReport) -> None:
        count = len(report.errors)
        first = report.errors[0].message if report.errors else ""
        super().__init__(f"invalid pipeline configuration ({count} error(s)): {first}")
        self.report = report

    @property
    def details(self) -> list[dict[str, Any]]:
        """The error objects, as the API puts them in the 400 envelope's `details`."""
        return [error.to_wire() for error in self.report.errors]


class InvalidPipelineInput(Exception):
    """`pipelineInput` does not fit the input blocks.

    `details` = `[{"field": "<input id>/<json pointer>", "message", "value"?}]`.
    """

    def __init__(self, details: list[dict[str, Any]]) -> None:
        first = details[0]["message"] if details else ""
        super().__init__(f"invalid pipeline input: {first}")
        self.details = details
