"""The sync user model under its moderatelyai-sdk 0.2.7 module path."""

from .._sync.models.user import UserModel

__all__ = ["UserModel"]
