"""``Teams``: the sync teams resource (generated from the async source)."""

from .._sync.resources.teams import Teams as Teams

__all__ = ["Teams"]
