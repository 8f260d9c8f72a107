"""The async user model under its moderatelyai-sdk 0.2.7 module path."""

from .._async.models.user import UserAsyncModel

__all__ = ["UserAsyncModel"]
