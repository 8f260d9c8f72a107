"""Plain wire types (no I/O): what the API sends, as pydantic models with dict-style access."""

from .agent import Agent
from .dataset import (
    Dataset,
    DatasetDataVersion,
    DatasetSchemaVersion,
    ParsingOptions,
    SchemaColumn,
)
from .file import File
from .pagination import PaginationInfo
from .pipeline import Pipeline, PipelineConfigurationVersion, PipelineExecution
from .team import Team
from .user import User

__all__ = [
    "Agent",
    "Dataset",
    "DatasetDataVersion",
    "DatasetSchemaVersion",
    "File",
    "PaginationInfo",
    "ParsingOptions",
    "Pipeline",
    "PipelineConfigurationVersion",
    "PipelineExecution",
    "SchemaColumn",
    "Team",
    "User",
]
