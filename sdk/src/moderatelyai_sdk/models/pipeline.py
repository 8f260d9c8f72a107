"""The sync pipeline model under its moderatelyai-sdk 0.2.7 module path."""

from .._sync.models.pipeline import PipelineModel

__all__ = ["PipelineModel"]
