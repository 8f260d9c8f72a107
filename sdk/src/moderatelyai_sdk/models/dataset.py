"""Sync dataset models under its moderatelyai-sdk 0.2.7 module path."""

from .._sync.models.dataset import DatasetDataVersionModel, DatasetModel

__all__ = ["DatasetModel", "DatasetDataVersionModel"]
