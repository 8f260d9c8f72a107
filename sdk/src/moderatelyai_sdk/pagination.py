"""Page types returned by ``list()`` methods."""

from ._async._pagination import AsyncPage
from ._sync._pagination import Page

__all__ = ["AsyncPage", "Page"]
