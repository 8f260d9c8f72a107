"""``AsyncPipelines``: the async pipelines resource."""

from .._async.resources.pipelines import AsyncPipelines as AsyncPipelines

__all__ = ["AsyncPipelines"]
