"""Rich models: wire entities with methods that call the API through the client that made them."""

from .._async.models.file import FileAsyncModel
from .._async.models.user import UserAsyncModel
from .._sync.models.file import FileModel
from .._sync.models.user import UserModel

__all__ = ["FileAsyncModel", "FileModel", "UserAsyncModel", "UserModel"]
