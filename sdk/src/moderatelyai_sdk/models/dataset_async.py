"""Async dataset models under its moderatelyai-sdk 0.2.7 module path."""

from .._async.models.dataset import DatasetAsyncModel, DatasetDataVersionAsyncModel

__all__ = ["DatasetAsyncModel", "DatasetDataVersionAsyncModel"]
