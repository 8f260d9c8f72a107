"""``PipelineConfigurationVersions``: the sync configuration versions resource (generated)."""

from .._sync.resources.pipeline_configuration_versions import (
    PipelineConfigurationVersions as PipelineConfigurationVersions,
)

__all__ = ["PipelineConfigurationVersions"]
