"""``AuditLogs``: the sync audit logs resource (generated from the async source)."""

from .._sync.resources.audit_logs import AuditLogs as AuditLogs

__all__ = ["AuditLogs"]
