"""Rich models: wire entities with methods that call the API through the client that made them."""

from .._async.models.dataset import (
    AsyncSchemaBuilder,
    DatasetAsyncModel,
    DatasetDataVersionAsyncModel,
    DatasetSchemaVersionAsyncModel,
)
from .._async.models.file import FileAsyncModel
from .._async.models.user import UserAsyncModel
from .._sync.models.dataset import (
    DatasetDataVersionModel,
    DatasetModel,
    DatasetSchemaVersionModel,
    SchemaBuilder,
)
from .._sync.models.file import FileModel
from .._sync.models.user import UserModel

__all__ = [
    "AsyncSchemaBuilder",
    "DatasetAsyncModel",
    "DatasetDataVersionAsyncModel",
    "DatasetDataVersionModel",
    "DatasetModel",
    "DatasetSchemaVersionAsyncModel",
    "DatasetSchemaVersionModel",
    "FileAsyncModel",
    "FileModel",
    "SchemaBuilder",
    "UserAsyncModel",
    "UserModel",
]
