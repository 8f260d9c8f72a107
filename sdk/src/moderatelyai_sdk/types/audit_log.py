from typing import Any, ClassVar, Dict, Optional

from .._models import BaseModel, Timestamp

__all__ = ["AuditLog"]


class AuditLog(BaseModel):
    """One audit log entry (wire: ``AuditLog``): who did what to which resource, and when.

    ``event_type`` is ``<resource_type>.created``, ``.updated`` or ``.deleted``; an execution's
    status move is ``<resource_type>.<status>`` (e.g. ``pipeline_execution.completed``) and a
    request whose API token used admin rights adds ``api_token.used``.
    """

    audit_log_id: str
    team_id: Optional[str] = None
    user_id: Optional[str] = None
    """The acting user; ``None`` for the server's own work (jobs, the operator)."""
    api_token_id: Optional[str] = None
    session_id: Optional[str] = None
    event_type: str
    resource_type: str
    """e.g. ``"agent"``, ``"pipeline_execution"``, ``"team_user"``."""
    resource_id: Optional[str] = None
    action: str
    """``create``, ``read``, ``update``, ``delete``, ``execute``, ``export`` or ``import``."""
    changes: Optional[Dict[str, Any]] = None
    """For updates, the names of the changed fields, never their values:
    ``{"fields": ["name"]}``."""
    metadata: Optional[Dict[str, Any]] = None
    """``requestId``, ``ipAddress``, ``userAgent``; ``{"additionalInfo": {"actor": "system"}}``
    for the server's own work."""
    created_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
