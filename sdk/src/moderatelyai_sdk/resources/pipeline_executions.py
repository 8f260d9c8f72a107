"""``PipelineExecutions``: the sync pipeline executions resource (generated)."""

from .._sync.resources.pipeline_executions import PipelineExecutions as PipelineExecutions

__all__ = ["PipelineExecutions"]
