from typing import Any, ClassVar, Dict, Optional

from pydantic import Field

from .._models import BaseModel, Timestamp

__all__ = ["File"]


class File(BaseModel):
    """A stored file (wire: ``File``). Rich behaviour lives in ``FileModel`` / ``FileAsyncModel``.

    Two attributes are named after the seed rather than the wire: ``name`` (wire ``fileName``) and
    ``status`` (wire ``uploadStatus``: ``pending``, ``completed`` or ``failed``).
    """

    file_id: str
    name: str = Field(alias="fileName")
    original_name: Optional[str] = None
    mime_type: str = "application/octet-stream"
    file_size: Optional[int] = None
    """Bytes."""
    file_hash: Optional[str] = None
    """SHA-256 as the uploader declared it: 64 hex characters, possibly ``sha256:``-prefixed."""
    team_id: Optional[str] = None
    dataset_id: Optional[str] = None
    status: str = Field("unknown", alias="uploadStatus")
    uploaded_by: Optional[str] = None
    metadata: Optional[Dict[str, Any]] = None
    failure_reason: Optional[str] = None
    """Why the upload failed (only when ``status`` is ``failed``)."""
    created_at: Optional[str] = None
    """ISO 8601 UTC timestamp, e.g. ``2025-08-22T20:14:27.504Z``."""
    updated_at: Optional[str] = None

    created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")
    updated_at_datetime: ClassVar[Timestamp] = Timestamp("updated_at")
