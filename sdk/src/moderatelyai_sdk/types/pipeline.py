from typing import Any, ClassVar, Dict, Optional, Union

from pydantic import Field

from .._models import BaseModel, Timestamp

__all__ = ["Pipeline", "PipelineConfigurationVersion", "PipelineExecution"]


class Pipeline(BaseModel):
    """A pipeline (wire: ``Pipeline``): name, description and run metrics. Its logic lives in
    configuration versions; rich behaviour in ``PipelineModel`` / ``PipelineAsyncModel``."""

    pipeline_id: str
    team_id: Optional[str] = None
    name: str
    description: Optional[str] = None
    created_at: Optional[str] = None
    """ISO 8601 UTC timestamp, e.g. ``2025-08-22T20:14:27.504Z``."""
    updated_at: Optional[str] = None
    last_run_at: Optional[str] = None
    """``createdAt`` of the latest execution."""
    total_runs: Union[int, float] = 0
    """Executions of any of its configuration versions."""
    successful_runs: Union[int, float] = 0
    """Those that completed."""
    success_rate: Union[int, float] = 0.0
    """Percentage (0-100) of successful runs; 0 without runs."""

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")
    last_run_at_datetime: ClassVar[Timestamp] = Timestamp("last_run_at")


class PipelineConfigurationVersion(BaseModel):
    """One numbered version of a pipeline's configuration document (wire:
    ``PipelineConfigurationVersion``)."""

    pipeline_configuration_version_id: str
    pipeline_id: str
    configuration: Dict[str, Any] = Field(default_factory=dict)
    """The configuration document: ``id``, ``name``, ``blocks``, ``connections``, ..."""
    version: Optional[int] = None
    """Per-pipeline sequence number assigned by the server (1, 2, ...)."""
    status: Optional[str] = None
    """``draft``, ``current`` or ``archived``; at most one ``current`` per pipeline."""
    created_at: Optional[str] = None
    updated_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")


class PipelineExecution(BaseModel):
    """One run of a configuration version on an input (wire: ``PipelineExecution``)."""

    pipeline_execution_id: str
    pipeline_configuration_version_id: str
    pipeline_id: Optional[str] = None
    pipeline_input: Dict[str, Any] = Field(default_factory=dict)
    """Input block id -> value."""
    pipeline_input_summary: Optional[str] = None
    pipeline_output: Optional[Dict[str, Any]] = None
    """Output name -> value once completed; ``None`` when the output is stored in the object
    store (``pipeline_output_file_uri``): ``get_output()`` reads either."""
    pipeline_output_summary: Optional[str] = None
    pipeline_output_file_uri: Optional[str] = None
    status: str
    """``pending``, ``running``, ``completed``, ``failed``, ``cancelled`` or ``paused``."""
    progress_data: Dict[str, Any] = Field(default_factory=dict)
    """The engine's progress report: ``message``, ``current_block``, ``blocks`` (per-block
    states), and on failure ``error``, ``errors``, ``failed_block``, ``error_type``."""
    current_step: Optional[int] = None
    """Blocks completed so far (0-based)."""
    total_steps: Optional[int] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    started_at: Optional[str] = None
    completed_at: Optional[str] = None
    failed_at: Optional[str] = None
    cancelled_at: Optional[str] = None
    paused_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")
    started_at_datetime: ClassVar[Timestamp] = Timestamp("started_at")
    completed_at_datetime: ClassVar[Timestamp] = Timestamp("completed_at")
    failed_at_datetime: ClassVar[Timestamp] = Timestamp("failed_at")
    cancelled_at_datetime: ClassVar[Timestamp] = Timestamp("cancelled_at")
    paused_at_datetime: ClassVar[Timestamp] = Timestamp("paused_at")
