"""``AsyncPipelineExecutions``: the async pipeline executions resource."""

from .._async.resources.pipeline_executions import (
    AsyncPipelineExecutions as AsyncPipelineExecutions,
)

__all__ = ["AsyncPipelineExecutions"]
