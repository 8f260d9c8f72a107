"""The pipeline engine: configuration documents, validation, block registry, execution.

No database, storage or API imports: the server provides a `RunContext` per execution.

    report = validate_configuration(document)          # POST .../validate: report.to_wire()
    schema = configuration_json_schema()               # GET .../schema
    plan = compile_pipeline(document)                  # raises InvalidConfiguration (400)
    values = prepare_inputs(plan, pipeline_input)      # raises InvalidPipelineInput (400)
    result = await run_pipeline(plan, pipeline_input, ctx)   # a RunResult, never raises
    result = await run_pipeline(plan, pipeline_input, ctx, budgets=Budgets(...))  # job limits
"""

from .budgets import Budgets, ResourceLimitError
from .config import BlockEntry, Connection, PipelineConfiguration, normalize_for_storage
from .context import BlockContext, DatasetInfo, DatasetRows, FileInfo, RunContext
from .errors import BlockError, InvalidConfiguration, InvalidPipelineInput
from .execute import RunResult, output_summary, prepare_inputs, run_pipeline
from .plan import Plan
from .ports import BlockPorts, Port
from .progress import ExecutionProgress, ProgressEvent
from .registry import (
    SPEC_BLOCK_TYPES,
    BlockType,
    ConfigIssue,
    block,
    block_types,
    find_block_type,
    get_block_type,
)
from .report import BlockIssue, ConnectionIssue, ValidationReport
from .schema import configuration_json_schema
from .validate import compile_pipeline, validate_configuration

__all__ = [
    "SPEC_BLOCK_TYPES",
    "BlockContext",
    "BlockEntry",
    "BlockError",
    "BlockIssue",
    "BlockPorts",
    "BlockType",
    "Budgets",
    "ConfigIssue",
    "Connection",
    "ConnectionIssue",
    "DatasetInfo",
    "DatasetRows",
    "ExecutionProgress",
    "FileInfo",
    "InvalidConfiguration",
    "InvalidPipelineInput",
    "PipelineConfiguration",
    "Plan",
    "Port",
    "ProgressEvent",
    "ResourceLimitError",
    "RunContext",
    "RunResult",
    "ValidationReport",
    "block",
    "block_types",
    "compile_pipeline",
    "configuration_json_schema",
    "find_block_type",
    "get_block_type",
    "normalize_for_storage",
    "output_summary",
    "prepare_inputs",
    "run_pipeline",
    "validate_configuration",
]
