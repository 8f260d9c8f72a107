"""``AsyncAgentConfigurationVersions``: the async agent configuration versions resource."""

from .._async.resources.agent_configuration_versions import (
    AsyncAgentConfigurationVersions as AsyncAgentConfigurationVersions,
)

__all__ = ["AsyncAgentConfigurationVersions"]
