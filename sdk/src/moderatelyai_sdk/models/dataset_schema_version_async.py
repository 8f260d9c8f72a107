"""The async schema-version model and builder under its moderatelyai-sdk 0.2.7 module path."""

from .._async.models.dataset import AsyncSchemaBuilder, DatasetSchemaVersionAsyncModel

__all__ = ["DatasetSchemaVersionAsyncModel", "AsyncSchemaBuilder"]
