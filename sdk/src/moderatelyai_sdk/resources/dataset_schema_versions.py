"""``DatasetSchemaVersions``: the sync dataset schema versions resource (generated from
the async source)."""

from .._sync.resources.dataset_schema_versions import DatasetSchemaVersions as DatasetSchemaVersions

__all__ = ["DatasetSchemaVersions"]
