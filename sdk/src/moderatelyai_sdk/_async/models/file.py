"""``FileAsyncModel``: a stored file plus helpers that call the API through its client."""

from pathlib import PurePath
from typing import Any, Optional, cast

from typing_extensions import Protocol

from ...types.file import File
from .._streams import PathType, ProgressCallback

__all__ = ["FileAsyncModel", "FilesAPI"]

_DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)


class FileAsyncModel(File):
    """A file with rich operations.

    Attributes: ``file_id``, ``name``, ``original_name``, ``mime_type``, ``file_size``,
    ``file_hash``, ``team_id``, ``dataset_id``, ``status`` (``pending``, ``completed`` or
    ``failed``), ``metadata``, ``created_at``, ``updated_at``; wire keys work too
    (``file["fileName"]``, ``file["uploadStatus"]``).
    """

    @property
    def _files(self) -> "FilesAPI":
        return _files(self._client)

    @property
    def _mime(self) -> str:
        return self.mime_type.split(";", 1)[0].strip().lower()

    def is_ready(self) -> bool:
        """Whether the upload is complete and the file can be downloaded."""
        return self.status in ("completed", "ready")

    def is_processing(self) -> bool:
        """Whether the upload is still pending (its bytes are not confirmed yet)."""
        return self.status in ("pending", "processing")

    def has_error(self) -> bool:
        """Whether the upload failed (e.g. the stored bytes did not match the declared hash)."""
        return self.status in ("failed", "error")

    def get_extension(self) -> str:
        """The name's extension with its dot (``".csv"``), or ``""``."""
        return PurePath(self.name).suffix

    def is_image(self) -> bool:
        """Whether the MIME type is ``image/*``."""
        return self._mime.startswith("image/")

    def is_document(self) -> bool:
        """Whether the file is a PDF or an Office document (Word, Excel, PowerPoint)."""
        return self._mime in _DOCUMENT_TYPES

    def is_text(self) -> bool:
        """Whether the MIME type is ``text/*``."""
        return self._mime.startswith("text/")

    def is_csv(self) -> bool:
        """Whether the MIME type is ``text/csv``."""
        return self._mime == "text/csv"

    async def download(
        self,
        *,
        path: Optional[PathType] = None,
        progress: Optional[ProgressCallback] = None,
    ) -> Optional[bytes]:
        """Download the content, checked against this file's SHA-256.

        Args:
            path: Write the content to this file (parent folders are created; a temporary file
                beside it is renamed into place once complete and verified) and return ``None``.
                Without it, return the bytes.
            progress: Called as ``progress(bytes_done, total)`` while the bytes arrive.

        Raises:
            ValidationError: If the upload is not completed.
            NotFoundError: If the file no longer exists.

        Wire: ``GET /files/{fileId}/download``, then ``GET <downloadUrl>``
        """
        return await self._files.download(
            self.file_id, path=path, progress=progress, file_hash=self.file_hash
        )

    async def delete(self) -> None:
        """Delete the file and its stored bytes.

        Wire: ``DELETE /files/{fileId}``
        """
        await self._files.delete(self.file_id)

    async def refresh(self) -> "FileAsyncModel":
        """Reload this file from the API; returns this same object.

        Wire: ``GET /files/{fileId}``
        """
        self._replace_with(await self._files.retrieve(self.file_id))
        return self


class FilesAPI(Protocol):
    """The calls ``FileAsyncModel`` makes: those of ``client.files`` (typed here, not imported,
    so that this module imports no resource: the resources import the models)."""

    async def retrieve(self, file_id: str) -> FileAsyncModel: ...

    async def download(
        self,
        file_id: str,
        *,
        path: Optional[PathType] = None,
        progress: Optional[ProgressCallback] = None,
        file_hash: Optional[str] = None,
    ) -> Optional[bytes]: ...

    async def delete(self, file_id: str) -> None: ...


class _FilesClient(Protocol):
    @property
    def files(self) -> FilesAPI: ...


def _files(client: Any) -> FilesAPI:
    if client is None:
        raise RuntimeError("This file was not returned by a client, so it cannot call the API")
    return cast(_FilesClient, client).files
