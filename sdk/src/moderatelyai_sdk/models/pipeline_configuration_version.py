"""The sync configuration-version model under its moderatelyai-sdk 0.2.7 module path."""

from .._sync.models.pipeline import PipelineConfigurationVersionModel

__all__ = ["PipelineConfigurationVersionModel"]
