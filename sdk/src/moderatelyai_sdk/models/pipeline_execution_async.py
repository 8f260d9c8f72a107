"""The async execution model under its moderatelyai-sdk 0.2.7 module path."""

from .._async.models.pipeline import PipelineExecutionAsyncModel

__all__ = ["PipelineExecutionAsyncModel"]
