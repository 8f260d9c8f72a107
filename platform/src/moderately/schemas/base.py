"""Shared wire conventions: camelCase keys, snake_case accepted on input, timestamps in ms Z."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from moderately.timeutil import as_utc, format_timestamp

T = TypeVar("T")

# Out: "2025-08-22T20:14:27.504Z". The serializer keeps the JSON schema a plain string.
Timestamp = Annotated[
    datetime, PlainSerializer(format_timestamp, return_type=str, when_used="json")
]


def document_snake_aliases(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """List the snake_case spellings too: the document must say what the server accepts."""
    properties = schema.get("properties", {})
    for name, field in model.model_fields.items():
        choices = field.validation_alias
        spellings = (
            [c for c in choices.choices if isinstance(c, str)]
            if isinstance(choices, AliasChoices)
            else [field.alias]
        )
        alias, others = spellings[0], [*spellings[1:], name]
        if not alias or alias not in properties:
            continue
        for other in others:
            if other != alias and other not in properties:
                properties[other] = {
                    **properties[alias],
                    "description": f"Alias of `{alias}` (as 0.2.7 sends it); "
                    f"`{alias}` wins when both are sent.",
                }


class RequestModel(BaseModel):
    """Bodies: camelCase documented, snake_case accepted (camelCase wins), unknown keys ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="ignore",
        json_schema_extra=document_snake_aliases,
    )

    def changes(self, *, not_nullable: tuple[str, ...] = ()) -> dict[str, Any]:
        """The fields a PATCH body set; a null for a field that cannot be null means "unchanged"."""
        values = self.model_dump(exclude_unset=True)
        return {k: v for k, v in values.items() if not (v is None and k in not_nullable)}


class ResponseModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        serialize_by_alias=True,
        validate_by_name=True,
        from_attributes=True,
    )


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


# Input timestamps must carry an offset, so "when" is never ambiguous.
InputTimestamp = AwareDatetime

# Stored text never holds NUL (PostgreSQL refuses it); the pattern says so in the document.
NO_NUL = r"^[^\x00]*$"
Name = Annotated[str, Field(min_length=1, max_length=255, pattern=NO_NUL)]
Description = Annotated[str, Field(max_length=1000, pattern=NO_NUL)]
LongText = Annotated[str, Field(max_length=10000, pattern=NO_NUL)]
IdRef = Annotated[str, Field(pattern=NO_NUL, max_length=255)]


class PaginationPublic(ResponseModel):
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)
    total_items: int = Field(ge=0)
    total_pages: int = Field(ge=0)
    has_next_page: bool
    has_previous_page: bool


class Paginated(ResponseModel, Generic[T]):
    items: list[T]
    pagination: PaginationPublic


class DeleteResult(ResponseModel):
    success: bool = True
    message: str


class MessageResult(ResponseModel):
    message: str


class ErrorDetail(ResponseModel):
    field: str
    message: str
    value: Any = None


class ErrorBody(ResponseModel):
    code: str
    message: str
    details: Any = None
    timestamp: str
    path: str | None = None
    request_id: str | None = None


class ErrorEnvelope(ResponseModel):
    """The OpenAPI `{error: {...}}` plus the top-level keys 0.2.7 reads."""

    error: ErrorBody
    code: str
    message: str
    details: list[ErrorDetail] | None = Field(
        default=None, description="Present on every 400 (possibly empty), absent otherwise."
    )
