"""``AgentConfigurationVersions``: the sync agent configuration versions resource (generated
from the async source)."""

from .._sync.resources.agent_configuration_versions import (
    AgentConfigurationVersions as AgentConfigurationVersions,
)

__all__ = ["AgentConfigurationVersions"]
