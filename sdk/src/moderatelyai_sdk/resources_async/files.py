"""``AsyncFiles``: the async files resource."""

from .._async.resources.files import AsyncFiles as AsyncFiles

__all__ = ["AsyncFiles"]
