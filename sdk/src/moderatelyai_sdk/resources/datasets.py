"""``Datasets``: the sync datasets resource (generated from the async source)."""

from .._sync.resources.datasets import Datasets as Datasets

__all__ = ["Datasets"]
