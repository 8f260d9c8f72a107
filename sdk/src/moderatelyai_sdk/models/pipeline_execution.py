"""The sync execution model under its moderatelyai-sdk 0.2.7 module path."""

from .._sync.models.pipeline import PipelineExecutionModel

__all__ = ["PipelineExecutionModel"]
