"""``AsyncAgentExecutions``: the async agent executions resource."""

from .._async.resources.agent_executions import AsyncAgentExecutions as AsyncAgentExecutions

__all__ = ["AsyncAgentExecutions"]
