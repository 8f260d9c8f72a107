"""``AsyncDatasetSchemaVersions``: the async dataset schema versions resource."""

from .._async.resources.dataset_schema_versions import (
    AsyncDatasetSchemaVersions as AsyncDatasetSchemaVersions,
)

__all__ = ["AsyncDatasetSchemaVersions"]
