"""The async file model under its moderatelyai-sdk 0.2.7 module path."""

from .._async.models.file import FileAsyncModel

__all__ = ["FileAsyncModel"]
