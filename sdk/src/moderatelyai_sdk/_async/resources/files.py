"""Files resource."""

import os
from typing import Any, Dict, List, Optional, Union

from ..._base_client import list_query, make_body, path_param
from ..._files import upload_status
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource
from .._transfer import ProgressCallback, download_file, upload_file
from ..models.file import FileAsyncModel

__all__ = ["AsyncFiles"]

PathType = Union[str, "os.PathLike[str]"]


class AsyncFiles(AsyncBaseResource):
    """Manage files in your team: upload, list, download, update and delete.

    Transfers go straight to storage through presigned URLs, streamed in fixed-size chunks
    (memory stays bounded whatever the size), SHA-256 checked both ways, retried on connection
    errors and 5xx. Every method returns ``FileAsyncModel`` objects.

    Example::

        file = await client.files.upload("/path/to/data.csv", metadata={"quarter": "Q1"})
        if file.is_ready() and file.is_csv():
            content = await file.download()  # bytes
            await file.download(path="./copy.csv")  # streamed to disk
        page = await client.files.list(mime_type="text/csv", page_size=20)
        async for f in page.auto_paging_iter():
            print(f.name, f.file_size)
        await file.delete()
    """

    async def list(
        self,
        *,
        dataset_id: Optional[str] = None,
        status: Optional[str] = None,
        mime_type: Optional[str] = None,
        file_hashes: Union[str, List[str], None] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "created_at",
        order_direction: str = "desc",
    ) -> AsyncPage[FileAsyncModel]:
        """List the team's files with pagination and filters.

        Args:
            dataset_id: Only files linked to this dataset.
            status: Only files in this state: "completed" (also "ready", "uploaded"), "pending"
                (also "processing") or "failed" (also "error").
            mime_type: Only files of this MIME type, e.g. "text/csv" (several: comma-separated).
            file_hashes: Only files with this SHA-256 (hex, ``sha256:`` prefix optional), or any
                of a list of them: finds a duplicate before uploading it again.
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-100). Defaults to 10.
            order_by: "created_at", "updated_at", "name" or "file_size". Defaults to "created_at".
            order_direction: Sort direction ("asc" or "desc"). Defaults to "desc".

        Returns:
            A page: ``["items"]`` holds ``FileAsyncModel`` objects, ``["pagination"]`` the paging
            info; ``auto_paging_iter()`` walks every file.

        Wire: ``GET /files``
        """
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            datasetId=dataset_id,
            uploadStatus=upload_status(status),
            mimeTypes=mime_type,
            fileHashes=file_hashes,
        )
        return await self._get_page("/files", FileAsyncModel, query=query)

    async def retrieve(self, file_id: str) -> FileAsyncModel:
        """Retrieve a specific file by ID.

        Args:
            file_id: The ID of the file to retrieve.

        Raises:
            NotFoundError: If the file doesn't exist (or belongs to another team).

        Wire: ``GET /files/{fileId}``
        """
        return await self._get(f"/files/{path_param(file_id, 'file_id')}", FileAsyncModel)

    async def upload(
        self,
        file: Any = None,
        *,
        name: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
        progress: Optional[ProgressCallback] = None,
        **kwargs: Any,
    ) -> FileAsyncModel:
        """Upload a file through a presigned URL, streamed and SHA-256 verified.

        Args:
            file: A path (str or Path), bytes, a binary file object (read from its current
                position; rewound for a retry when seekable, else spooled to a temporary file
                first), or an object with ``async def read(n)``. ``file_path=`` is an alias.
            name: Display name. Defaults to the path's base name (a ``name`` without the path's
                extension gets it appended), the file object's name, or "uploaded_file".
            metadata: JSON object stored with the file.
            progress: Called as ``progress(bytes_sent, total)`` while the bytes go out.
            **kwargs: ``mime_type=`` overrides detection (from the name, then the content);
                ``file_hash=`` (the SHA-256 you computed already, e.g. to look for a duplicate)
                saves the hashing pass; other fields go to the upload-url request with
                camelCase keys (e.g. ``dataset_id``).

        Returns:
            The completed file.

        Raises:
            ValueError: If no file is given, the path does not exist (also a
                ``FileNotFoundError``) or the object cannot be read; before any request.
            ValidationError: If the server refuses the file (e.g. too large) or the stored bytes
                do not match what was declared.
            PermissionDeniedError: If the storage refused the presigned URL.
            TimeoutError: If the storage could not be reached on any attempt.

        Wire: ``POST /files/upload-url``, ``PUT <uploadUrl>``, ``POST /files/{fileId}/complete``
        """
        file_path = kwargs.pop("file_path", None)
        if file is None:
            file = file_path
        elif file_path is not None:
            raise TypeError("upload() takes the file or file_path=, not both")
        if file is None:
            raise ValueError("upload() needs a file: a path, bytes or a readable object")
        data = await upload_file(
            self._client,
            file,
            name=name,
            metadata=metadata,
            mime_type=kwargs.pop("mime_type", None),
            file_hash=kwargs.pop("file_hash", None),
            progress=progress,
            extra=kwargs,
        )
        return self._client._cast(FileAsyncModel, data)

    async def download(
        self,
        file_id: str,
        *,
        path: Optional[PathType] = None,
        progress: Optional[ProgressCallback] = None,
    ) -> Optional[bytes]:
        """Download a file's content, checked against its SHA-256.

        Args:
            file_id: The ID of the file to download.
            path: Write the content to this file (parent folders are created; a temporary file
                beside it is renamed into place once complete and verified) and return ``None``.
                Without it, return the bytes.
            progress: Called as ``progress(bytes_done, total)`` while the bytes arrive.

        Raises:
            NotFoundError: If the file doesn't exist.
            ValidationError: If its upload is not completed.
            APIError: If the bytes that arrived do not match the file's size or SHA-256.

        Wire: ``GET /files/{fileId}/download``, then ``GET <downloadUrl>``
        """
        return await self._download(file_id, path=path, progress=progress)

    async def _download(
        self,
        file_id: str,
        *,
        path: Optional[PathType],
        progress: Optional[ProgressCallback],
        file_hash: Optional[str] = None,
    ) -> Optional[bytes]:
        # Shared with FileAsyncModel.download, which knows the hash already.
        return await download_file(
            self._client, file_id, path=path, progress=progress, file_hash=file_hash
        )

    async def update(
        self,
        file_id: str,
        *,
        name: Optional[str] = None,
        dataset_id: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> FileAsyncModel:
        """Update a file's name, dataset link or metadata; only the given fields change.

        Args:
            file_id: The ID of the file to update.
            name: New display name.
            dataset_id: Dataset to link the file to.
            metadata: New metadata (replaces the old object).
            **kwargs: Other fields, sent with camelCase keys.

        Raises:
            NotFoundError: If the file doesn't exist.
            ValidationError: If the request data is invalid.

        Wire: ``PATCH /files/{fileId}``
        """
        fields = {"fileName": name, "datasetId": dataset_id, "metadata": metadata}
        path = f"/files/{path_param(file_id, 'file_id')}"
        return await self._patch(path, FileAsyncModel, body=make_body(fields, kwargs))

    async def delete(self, file_id: str) -> None:
        """Delete a file permanently, stored bytes included.

        Args:
            file_id: The ID of the file to delete.

        Raises:
            NotFoundError: If the file doesn't exist.

        Wire: ``DELETE /files/{fileId}``
        """
        await self._delete(f"/files/{path_param(file_id, 'file_id')}")

    async def get_upload_url(
        self,
        *,
        filename: str,
        file_size: int,
        mime_type: Optional[str] = None,
        dataset_id: Optional[str] = None,
        file_hash: Optional[str] = None,
        **kwargs: Any,
    ) -> Dict[str, Any]:
        """Create a pending file and a presigned URL to PUT its bytes to (the low-level step of
        ``upload``; finish with ``POST /files/{fileId}/complete``).

        Args:
            filename: The file name.
            file_size: Exact size in bytes; the URL accepts exactly that many.
            mime_type: MIME type; the PUT must send it as ``Content-Type``.
            dataset_id: Dataset to link the file to.
            file_hash: SHA-256 (hex) of the content; may also be given only at completion.
            **kwargs: Other fields (e.g. ``metadata``), sent with camelCase keys.

        Returns:
            The server's answer: ``{"file": {...}, "uploadUrl": "...", "expiresAt": "..."}``.

        Raises:
            ValidationError: If the request data is invalid (e.g. the file is too large).

        Wire: ``POST /files/upload-url``
        """
        fields = {
            "fileName": filename,
            "fileSize": file_size,
            "mimeType": mime_type,
            "datasetId": dataset_id,
            "fileHash": file_hash,
            "teamId": self._client.team_id,
        }
        answer: Dict[str, Any] = await self._client._request(
            "POST", "/files/upload-url", body=make_body(fields, kwargs)
        )
        return answer
