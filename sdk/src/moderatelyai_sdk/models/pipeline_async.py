"""The async pipeline model under its moderatelyai-sdk 0.2.7 module path."""

from .._async.models.pipeline import PipelineAsyncModel

__all__ = ["PipelineAsyncModel"]
