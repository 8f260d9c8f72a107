from typing import Any, ClassVar, Dict, List, Optional, Union

from pydantic import Field

from .._models import BaseModel, Timestamp

__all__ = [
    "Dataset",
    "DatasetDataVersion",
    "DatasetSchemaVersion",
    "ParsingOptions",
    "SchemaColumn",
]


class Dataset(BaseModel):
    """A dataset (wire: ``Dataset``). Rich behaviour lives in ``DatasetModel`` /
    ``DatasetAsyncModel``."""

    dataset_id: str
    team_id: Optional[str] = None
    name: str
    description: Optional[str] = None
    current_data_version_id: Optional[str] = None
    """The data version whose status is ``current``."""
    current_schema_version_id: Optional[str] = None
    """The schema version whose status is ``current``."""
    active_data_version_id: Optional[str] = None
    """The data version the last successful processing run read."""
    active_data_schema_version_id: Optional[str] = None
    """The schema version the last successful processing run used."""
    processing_status: Optional[str] = None
    """``None`` (never processed), ``needs-processing``, ``in_progress``, ``completed`` or
    ``failed``."""
    record_count: Optional[int] = None
    """Records of the current data: counted by the server at upload, then by processing."""
    total_size_bytes: Optional[int] = None
    """Size of the current data version."""
    processing_error: Optional[str] = None
    """Why the last processing run failed (``None`` unless ``failed``)."""
    processing_report: Optional[Dict[str, Any]] = None
    """The last run's report: ``ok``, ``recordCount``, ``errorCount``, ``counts`` per kind,
    ``columnCounts``, the first ``errors`` (``kind``, ``row``, ``line``, ``column``, ``value``,
    ``message``), ``warnings``, ``columnsFound``, ``summary``."""
    created_at: Optional[str] = None
    """ISO 8601 UTC timestamp, e.g. ``2025-08-22T20:14:27.504Z``."""
    updated_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")


class DatasetDataVersion(BaseModel):
    """One uploaded file of a dataset (wire: ``DatasetDataVersion``)."""

    dataset_data_version_id: str
    dataset_id: str
    version_no: int
    """1, 2, ... per dataset."""
    file_type: str
    """``csv`` (delimited text) or ``xlsx``."""
    status: str
    """``draft``, ``current`` or ``archived``."""
    file_name: Optional[str] = None
    file_hash: Optional[str] = None
    """SHA-256 of the stored bytes."""
    file_size_bytes: Optional[int] = None
    row_count: Optional[int] = None
    """Data records as the server counted them (quoted line breaks, BOM, no final newline);
    ``None`` for xlsx."""
    source_file_uri: Optional[str] = None
    """Where the bytes are stored (opaque)."""
    upload_status: Optional[str] = None
    """``pending``, ``completed`` or ``failed``."""
    failure_reason: Optional[str] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")


class SchemaColumn(BaseModel):
    """A column of a schema version. ``required`` is ``not nullable``; reads like the wire dict
    too (``column["name"]``)."""

    name: str
    type: str
    """``string``, ``integer``, ``float``, ``boolean``, ``date``, ``datetime``, ``time``, or a
    name the server keeps without checking."""
    nullable: bool = True
    pos: Optional[int] = None
    """1-based position."""
    source: Optional[str] = None
    """The header column it is read from (default: ``name``)."""
    description: Optional[str] = None
    transform_expr: Optional[str] = None
    operations: Optional[List[Dict[str, Any]]] = None

    @property
    def required(self) -> bool:
        """Whether blanks are refused (``not nullable``)."""
        return not self.nullable


class ParsingOptions(BaseModel):
    """How a schema version reads delimited text (wire: ``ParsingOptions``)."""

    delimiter: Optional[str] = None
    header_row: Optional[int] = None
    """1-based line of the header, counted after ``skip_rows``."""
    skip_rows: Optional[Union[int, List[int]]] = None
    """Lines to drop: the first N, or these 0-based lines."""
    encoding: Optional[str] = None
    quote: Optional[str] = None
    escape: Optional[str] = None


class DatasetSchemaVersion(BaseModel):
    """Columns and parsing options of a dataset (wire: ``DatasetSchemaVersion``; ``columns`` is
    ``columnsJson`` on the wire)."""

    dataset_schema_version_id: str
    dataset_id: str
    version_no: int
    columns: List[SchemaColumn] = Field(default_factory=list, alias="columnsJson")
    status: str
    """``draft``, ``current`` or ``archived``."""
    parsing_options: Optional[ParsingOptions] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")

    @property
    def is_current(self) -> bool:
        """Whether this is the dataset's current schema (``status == "current"``)."""
        return self.status == "current"

    @property
    def parsing_config(self) -> Optional[ParsingOptions]:
        """Alias of ``parsing_options`` (the 0.2.7 async model's name)."""
        return self.parsing_options
