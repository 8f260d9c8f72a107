"""The sync schema-version model and builder under its moderatelyai-sdk 0.2.7 module path."""

from .._sync.models.dataset import DatasetSchemaVersionModel, SchemaBuilder

__all__ = ["DatasetSchemaVersionModel", "SchemaBuilder"]
