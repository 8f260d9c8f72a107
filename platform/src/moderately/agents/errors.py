"""How a tool call or a whole run goes wrong, with the cause named."""

from __future__ import annotations


class ToolError(Exception):
    """A tool call that cannot be done (bad arguments, unknown resource, ...): the message
    becomes the step's observation and the loop goes on."""


class RunFailure(Exception):
    """The run fails: `error_type` and `message` end it with a final `system` step."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
