"""``AsyncDatasets``: the async datasets resource."""

from .._async.resources.datasets import AsyncDatasets as AsyncDatasets

__all__ = ["AsyncDatasets"]
