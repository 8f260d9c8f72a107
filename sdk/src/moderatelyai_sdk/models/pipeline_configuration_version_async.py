"""The async configuration-version model under its moderatelyai-sdk 0.2.7 module path."""

from .._async.models.pipeline import PipelineConfigurationVersionAsyncModel

__all__ = ["PipelineConfigurationVersionAsyncModel"]
