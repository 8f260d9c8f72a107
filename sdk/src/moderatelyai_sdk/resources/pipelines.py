"""``Pipelines``: the sync pipelines resource (generated from the async source)."""

from .._sync.resources.pipelines import Pipelines as Pipelines

__all__ = ["Pipelines"]
