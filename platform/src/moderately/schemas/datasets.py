"""Request and response models of datasets, data versions and schema versions.

Column objects and parsing options are checked again by the data engine's parsers in the
services (a value they refuse is a 400 naming it); the models here describe the wire and keep
extra column keys (`transformExpr`, `operations`, anything else) as they came.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from moderately.schemas.base import (
    NO_NUL,
    IdRef,
    LongText,
    Name,
    RequestModel,
    ResponseModel,
    Timestamp,
    document_snake_aliases,
)
from moderately.schemas.entities import FileHash
from moderately.statuses import ProcessingStatus, UploadStatus, VersionStatus
from moderately.tabular import (
    MAX_COLUMNS,
    MAX_HEADER_ROW,
    MAX_LINE_INDEX,
    MAX_SKIP_ROW_LINES,
    MAX_SKIP_ROWS,
    InferredSchema,
)

FileType = Literal["csv", "xlsx"]
# Not blank, no NUL: what `tabular.Column` accepts for a name or a type.
_TEXT = r"^[^\x00]*[^\x00\s][^\x00]*$"
ColumnText = Annotated[str, Field(min_length=1, max_length=255, pattern=_TEXT)]
OptionalText = Annotated[str, Field(max_length=10000, pattern=NO_NUL)]
MAX_SAMPLE_ROWS = 1_000_000
MAX_VERSION_NO = 2**31 - 1  # the column is a 32-bit integer


class DatasetSort(StrEnum):
    created_at = "createdAt"
    updated_at = "updatedAt"
    name = "name"


class VersionSort(StrEnum):
    created_at = "createdAt"
    updated_at = "updatedAt"
    version_no = "versionNo"


# ---- datasets ----


class DatasetPublic(ResponseModel):
    dataset_id: str
    team_id: str
    name: str
    description: str | None
    created_at: Timestamp
    updated_at: Timestamp
    current_schema_version_id: str | None
    current_data_version_id: str | None
    active_data_schema_version_id: str | None = Field(
        description="The schema version the last successful processing run used"
    )
    active_data_version_id: str | None = Field(
        description="The data version the last successful processing run used"
    )
    processing_status: ProcessingStatus | None = Field(
        description="null: never processed; needs-processing: the current data or schema "
        "changed since; in_progress: queued or running; completed; failed (see "
        "processingError)"
    )
    record_count: int | None = Field(
        description="Records of the current data: counted by the server at upload, then by "
        "the last successful processing run"
    )
    total_size_bytes: int | None = Field(description="Size of the current data version")
    processing_error: str | None = Field(
        description="Extension: why the last processing run failed (null unless failed)"
    )
    processing_report: dict[str, Any] | None = Field(
        description="Extension: the last run's report: ok, recordCount, errorCount, truncated, "
        "counts (per kind), columnCounts, errors (the first 50: kind, row, line, column, "
        "value, message), warnings, columnsFound, summary"
    )


class DatasetCreate(RequestModel):
    team_id: IdRef | None = Field(
        default=None,
        description="Defaults to the single teamIds query value, else the token's team.",
    )
    name: Name
    description: LongText | None = None
    should_process: bool = Field(
        default=False,
        description="Queue processing at once (a new dataset has no data: it fails, saying so)",
    )


class DatasetUpdate(RequestModel):
    name: Name | None = None
    description: LongText | None = Field(default=None, description="null clears it")
    should_process: bool | None = Field(
        default=None,
        description="true: process the current data version with the current schema "
        "(processingStatus becomes in_progress, then completed or failed)",
    )


# ---- data versions ----


class DataVersionPublic(ResponseModel):
    dataset_data_version_id: str
    dataset_id: str
    version_no: int = Field(ge=1)
    source_file_uri: str = Field(
        max_length=1024,
        validation_alias=AliasChoices("storage_key", "source_file_uri"),
        description="Where the bytes are stored (opaque)",
    )
    file_type: FileType
    status: VersionStatus = Field(
        description="A version created current shows draft until its upload completes"
    )
    created_at: Timestamp
    updated_at: Timestamp
    file_name: str
    file_hash: str | None = Field(description="SHA-256: as sent, else computed by the server")
    file_size_bytes: int | None = Field(description="Size of the stored bytes")
    row_count: int | None = Field(
        description="Data records, counted by the server at complete (quoted line breaks, "
        "BOM, missing final newline; the current schema's parsingOptions); null for xlsx"
    )
    upload_status: UploadStatus = Field(
        description="Extension: state of the bytes; pending until completed, failed when "
        "refused or mismatched at complete, or when the upload URL expired (plus a grace "
        "period) without a complete. A failed version is never promoted; its versionNo stays used"
    )
    failure_reason: str | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="Extension: why the upload failed (present only when uploadStatus is failed)",
    )


class DataVersionCreate(RequestModel):
    dataset_id: IdRef
    file_name: Annotated[str, Field(min_length=1, max_length=255, pattern=NO_NUL)] = Field(
        validation_alias=AliasChoices("fileName", "filename")
    )
    file_type: FileType
    status: VersionStatus = Field(
        default=VersionStatus.DRAFT,
        description="current: becomes current when the upload completes",
    )
    file_size_bytes: int | None = Field(
        default=None,
        ge=0,
        description="Extension: the exact size; the upload URL then accepts no other. "
        "Unset: any size up to the server's upload limit",
    )
    file_hash: FileHash | None = Field(
        default=None, description="Extension: checked against the bytes at complete"
    )
    sign_checksum: bool = Field(
        default=False,
        description="Extension: bind fileHash into the upload URL (send every uploadHeaders "
        "header). Ignored without fileHash.",
    )


class DataVersionUploadPublic(ResponseModel):
    data_version: DataVersionPublic
    upload_url: str = Field(json_schema_extra={"format": "uri"})
    upload_expiry: Timestamp | None
    upload_headers: dict[str, str] = Field(
        description="Extension: headers the PUT must carry (part of the URL's signature)"
    )


class DataVersionComplete(RequestModel):
    file_hash: FileHash | None = Field(
        default=None, description="When given, must match the stored bytes"
    )
    file_size_bytes: int | None = Field(
        default=None, ge=0, description="When given, must match the stored bytes"
    )
    row_count: int | None = Field(
        default=None,
        description="Accepted and ignored: the server counts the rows itself (rowCount)",
    )


class DataVersionDownloadPublic(ResponseModel):
    download_url: str = Field(json_schema_extra={"format": "uri"})
    expires_at: Timestamp | None
    file_hash: str | None = Field(
        default=None,
        description="Extension: SHA-256 of the stored bytes (as sent, else computed by the "
        "server), to check the download against",
    )
    file_size_bytes: int | None = Field(
        default=None, ge=0, description="Extension: the size in bytes of what the URL serves"
    )


# ---- schema versions ----


def _no_extras(schema: dict[str, Any]) -> None:
    """Extra keys are accepted and kept; the document does not invite random ones."""
    schema.pop("additionalProperties", None)


class Operation(BaseModel):
    """A column operation (strip_whitespace, convert_dtype, ...): kept as sent, not run."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_no_extras)

    type: Annotated[str, Field(min_length=1, max_length=255, pattern=NO_NUL)]
    parameters: dict[str, Any] | None = None


class ColumnSpec(BaseModel):
    """A column as sent (keys as the wire spells them; others are kept)."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_no_extras)

    pos: int | None = Field(default=None, ge=1, le=MAX_COLUMNS)
    name: ColumnText
    source: Annotated[str, Field(max_length=255, pattern=NO_NUL)] | None = None
    type: ColumnText = Field(
        description="string, integer, float, boolean, date, datetime, time, or an alias "
        "(int, str, bool, ...); other types are kept and not checked"
    )
    nullable: bool | None = Field(default=None, description="Default true")
    required: bool | None = Field(
        default=None, description="The SDK's spelling: the negation of nullable (which wins)"
    )
    description: OptionalText | None = None
    transformExpr: OptionalText | None = None
    operations: list[Operation] | None = None

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ColumnPublic(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    type: str
    nullable: bool
    pos: int | None = Field(default=None, ge=1, exclude_if=lambda v: v is None)
    source: str | None = Field(default=None, exclude_if=lambda v: v is None)
    description: str | None = Field(default=None, exclude_if=lambda v: v is None)


class ParsingOptionsIn(RequestModel):
    """camelCase or snake_case keys (B11); null means "the default"."""

    delimiter: Annotated[str, Field(min_length=1, max_length=16, pattern=NO_NUL)] | None = Field(
        default=None, description='One character; also "\\t", "tab", "comma", "semicolon", "pipe"'
    )
    header_row: int | None = Field(
        default=None, ge=1, le=MAX_HEADER_ROW, description="1-based; default 1"
    )
    skip_rows: (
        Annotated[int, Field(ge=0, le=MAX_SKIP_ROWS)]
        | Annotated[
            list[Annotated[int, Field(ge=0, le=MAX_LINE_INDEX)]],
            Field(max_length=MAX_SKIP_ROW_LINES),
        ]
        | None
    ) = Field(default=None, description="Lines to drop: the first N, or these 0-based lines")
    encoding: Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL)] | None = None
    quote: Annotated[str, Field(max_length=1, pattern=NO_NUL)] | None = Field(
        default=None,
        validation_alias=AliasChoices("quote", "quoteChar", "quote_char"),
        description='Extension: the quote character (default "); "" turns quoting off',
    )
    escape: Annotated[str, Field(max_length=1, pattern=NO_NUL)] | None = Field(
        default=None,
        validation_alias=AliasChoices("escape", "escapeChar", "escape_char"),
        description="Extension: the escape character (default: doubled quotes)",
    )

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ParsingOptionsPublic(ResponseModel):
    delimiter: str
    header_row: int = Field(ge=1)
    skip_rows: int | list[int]
    encoding: str
    quote: str | None = Field(default=None, exclude_if=lambda v: v is None)
    escape: str | None = Field(default=None, exclude_if=lambda v: v is None)


class SchemaVersionPublic(ResponseModel):
    dataset_schema_version_id: str
    dataset_id: str
    version_no: int = Field(ge=1)
    columns_json: list[ColumnPublic]
    status: VersionStatus
    parsing_options: ParsingOptionsPublic = Field(description="With the defaults filled in")
    is_current: bool = Field(description="Extension: status is current (0.2.7's async model)")
    created_at: Timestamp
    updated_at: Timestamp


_COLUMNS_ALIASES = AliasChoices("columns", "columnsJson")
_OPTIONS_ALIASES = AliasChoices("parsingOptions", "parsing_options")


class SchemaVersionCreate(RequestModel):
    dataset_id: IdRef
    columns: list[ColumnSpec] = Field(
        min_length=1, max_length=MAX_COLUMNS, validation_alias=_COLUMNS_ALIASES
    )
    status: VersionStatus = VersionStatus.DRAFT
    parsing_options: ParsingOptionsIn | None = Field(
        default=None, validation_alias=_OPTIONS_ALIASES
    )


class SchemaVersionUpdate(RequestModel):
    status: VersionStatus | None = None
    columns: list[ColumnSpec] | None = Field(
        default=None, min_length=1, max_length=MAX_COLUMNS, validation_alias=_COLUMNS_ALIASES
    )
    parsing_options: ParsingOptionsIn | None = Field(
        default=None, validation_alias=_OPTIONS_ALIASES
    )

    def wire_changes(self) -> dict[str, Any]:
        """The fields sent (a null means "unchanged"), columns and options as plain dicts."""
        changes = self.changes(not_nullable=("status", "columns", "parsing_options"))
        if self.columns is not None:
            changes["columns"] = [c.wire() for c in self.columns]
        if self.parsing_options is not None:
            changes["parsing_options"] = self.parsing_options.wire()
        return changes


def _one_sample(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The document says what the service checks: a sample is named, with a string under
    whichever spelling of its field wins (fileId wins over datasetDataVersionId)."""
    document_snake_aliases(schema, model)
    branches = []
    for name in ("file_id", "dataset_data_version_id"):
        field = model.model_fields[name]
        choices = field.validation_alias
        spellings = (
            [c for c in choices.choices if isinstance(c, str)]
            if isinstance(choices, AliasChoices)
            else [str(field.alias), name]
        )
        strings = {spelling: {"type": "string"} for spelling in spellings}
        branches += [{"required": [spelling], "properties": strings} for spelling in spellings]
    schema["anyOf"] = branches


class SchemaInferRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra=_one_sample)

    file_id: IdRef | None = Field(
        default=None, description="An uploaded (completed) file; wins when both are named"
    )
    dataset_data_version_id: IdRef | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "datasetDataVersionId", "dataVersionId", "dataset_data_version_id"
        ),
        description="Or a completed data version",
    )
    parsing_options: ParsingOptionsIn | None = Field(
        default=None,
        validation_alias=_OPTIONS_ALIASES,
        description="How to read the sample; unset: sniffed (delimiter, encoding)",
    )
    sample_rows: int | None = Field(
        default=None,
        ge=1,
        le=MAX_SAMPLE_ROWS,
        description="Records to read for the types (default 100000)",
    )


class SchemaInferPublic(ResponseModel):
    columns: list[ColumnPublic] = Field(
        description="Ready to send as `columns` of POST /dataset-schema-versions"
    )
    parsing_options: ParsingOptionsPublic
    rows_sampled: int = Field(ge=0)
    sampled_all: bool = Field(description="The sample was the whole file")

    @classmethod
    def of(cls, inferred: InferredSchema) -> SchemaInferPublic:
        return cls(
            columns=[ColumnPublic.model_validate(c.to_wire()) for c in inferred.columns],
            parsing_options=ParsingOptionsPublic.model_validate(inferred.options.to_wire()),
            rows_sampled=inferred.rows_sampled,
            sampled_all=inferred.sampled_all,
        )
