"""Rich models: wire entities with methods that call the API through the client that made them."""

from .._async.models.dataset import (
    AsyncSchemaBuilder,
    DatasetAsyncModel,
    DatasetDataVersionAsyncModel,
    DatasetSchemaVersionAsyncModel,
)
from .._async.models.file import FileAsyncModel
from .._async.models.pipeline import (
    PipelineAsyncModel,
    PipelineConfigurationVersionAsyncModel,
    PipelineExecutionAsyncModel,
)
from .._async.models.user import UserAsyncModel
from .._sync.models.dataset import (
    DatasetDataVersionModel,
    DatasetModel,
    DatasetSchemaVersionModel,
    SchemaBuilder,
)
from .._sync.models.file import FileModel
from .._sync.models.pipeline import (
    PipelineConfigurationVersionModel,
    PipelineExecutionModel,
    PipelineModel,
)
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
    "PipelineAsyncModel",
    "PipelineConfigurationVersionAsyncModel",
    "PipelineConfigurationVersionModel",
    "PipelineExecutionAsyncModel",
    "PipelineExecutionModel",
    "PipelineModel",
    "SchemaBuilder",
    "UserAsyncModel",
    "UserModel",
]
