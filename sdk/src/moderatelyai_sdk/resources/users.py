"""``Users``: the sync users resource (generated from the async source)."""

from .._sync.resources.users import Users as Users

__all__ = ["Users"]
