"""Rich models: wire entities with methods that call the API through the client that made them."""

from .._async.models.user import UserAsyncModel
from .._sync.models.user import UserModel

__all__ = ["UserAsyncModel", "UserModel"]
