"""``AgentExecutions``: the sync agent executions resource (generated from the async source)."""

from .._sync.resources.agent_executions import AgentExecutions as AgentExecutions

__all__ = ["AgentExecutions"]
