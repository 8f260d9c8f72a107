"""Domain errors raised by services. `api/errors.py` maps them to HTTP once."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.code = code  # the envelope's `code`; None: the status's default


class Invalid(DomainError):
    """The request is malformed or breaks a rule that does not depend on stored state."""

    def __init__(
        self, message: str, *, field: str | None = None, value: Any = None, **kwargs: Any
    ) -> None:
        if field is not None and "details" not in kwargs:
            detail: dict[str, Any] = {"field": field, "message": message}
            if value is not None:
                detail["value"] = value
            kwargs["details"] = [detail]
        super().__init__(message, **kwargs)


class InvalidState(Invalid):
    """The request is well formed but the current state does not allow it."""


class Unauthorized(DomainError):
    pass


class Forbidden(DomainError):
    pass


class NotFound(DomainError):
    def __init__(self, entity: str, entity_id: str | None = None) -> None:
        shown = entity_id if entity_id is not None and len(entity_id) <= 64 else None
        super().__init__(f"{entity} {shown} not found" if shown else f"{entity} not found")


class Conflict(DomainError):
    pass


class Unavailable(DomainError):
    """Transient: the client should retry (503 with Retry-After)."""


class RateLimited(DomainError):
    """The API token spent its rate limit: 429, retry after `retry_after_seconds`."""

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
