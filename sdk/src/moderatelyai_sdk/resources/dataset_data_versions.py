"""``DatasetDataVersions``: the sync dataset data versions resource
(``client.datasets.data_versions``; generated from the async source)."""

from .._sync.resources.dataset_data_versions import DatasetDataVersions as DatasetDataVersions

__all__ = ["DatasetDataVersions"]
