"""``Files``: the sync files resource (generated from the async source)."""

from .._sync.resources.files import Files as Files

__all__ = ["Files"]
