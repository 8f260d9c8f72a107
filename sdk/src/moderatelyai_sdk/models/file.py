"""The sync file model under its moderatelyai-sdk 0.2.7 module path."""

from .._sync.models.file import FileModel

__all__ = ["FileModel"]
