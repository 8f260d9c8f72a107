"""``AsyncDatasetDataVersions``: the async dataset data versions resource
(``client.datasets.data_versions``)."""

from .._async.resources.dataset_data_versions import (
    AsyncDatasetDataVersions as AsyncDatasetDataVersions,
)

__all__ = ["AsyncDatasetDataVersions"]
