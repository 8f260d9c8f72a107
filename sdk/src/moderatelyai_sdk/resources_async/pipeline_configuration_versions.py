"""``AsyncPipelineConfigurationVersions``: the async pipeline configuration versions resource."""

from .._async.resources.pipeline_configuration_versions import (
    AsyncPipelineConfigurationVersions as AsyncPipelineConfigurationVersions,
)

__all__ = ["AsyncPipelineConfigurationVersions"]
