"""``AsyncUsers``: the async users resource."""

from .._async.resources.users import AsyncUsers as AsyncUsers

__all__ = ["AsyncUsers"]
