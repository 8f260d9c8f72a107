"""``AsyncAuditLogs``: the async audit logs resource."""

from .._async.resources.audit_logs import AsyncAuditLogs as AsyncAuditLogs

__all__ = ["AsyncAuditLogs"]
