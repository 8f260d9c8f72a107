"""Files resource: the file endpoints, and the upload and download through presigned URLs."""

import contextlib
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from typing_extensions import Unpack

from ... import _io_async
from ..._base_client import (
    EXTENSION_FILE_UPDATE,
    RequestOptions,
    cleanup_options,
    follow_up_options,
    list_query,
    make_body,
    path_param,
    split_options,
)
from ..._files import detect_mime_type, upload_status, upload_target
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource
from .._streams import PathType, ProgressCallback, UploadSource
from ..models.file import FileAsyncModel, FilesAPI

__all__ = ["AsyncFiles"]


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
        async for f in client.files.list(mime_type="text/csv", page_size=20):
            print(f.name, f.file_size)
        await file.delete()
    """

    @_io_async.paginated
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
        **options: Unpack[RequestOptions],
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
            **options: Request options (``timeout``, ``max_retries``, ``extra_headers``, ...).

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
        return await self._get_page("/files", FileAsyncModel, query=query, options=options)

    async def retrieve(self, file_id: str, **options: Unpack[RequestOptions]) -> FileAsyncModel:
        """Retrieve a specific file by ID.

        Args:
            file_id: The ID of the file to retrieve.
            **options: Request options (``timeout``, ``max_retries``, ``extra_headers``, ...).

        Raises:
            NotFoundError: If the file doesn't exist (or belongs to another team).

        Wire: ``GET /files/{fileId}``
        """
        return await self._get(_file_path(file_id), FileAsyncModel, options=options)

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

        The bytes are hashed first, the file is declared with its name, size, SHA-256 and MIME
        type, the bytes go to the URL the server hands out (the store refuses other bytes), and
        the upload is completed. A failed transfer deletes the pending file.

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
                saves the hashing pass; request options (``timeout``, ``max_retries`` apply to
                every step, ``idempotency_key`` to the first POST); other fields go to the
                upload-url request with camelCase keys (e.g. ``dataset_id``).

        Returns:
            The completed file.

        Raises:
            ValueError: If no file is given, the path does not exist (also a
                ``FileNotFoundError``) or the object cannot be read; before any request.
            ValidationError: If the server refuses the file (e.g. too large) or the stored bytes
                do not match what was declared.
            PermissionDeniedError: If the storage refused the presigned URL.
            APIConnectionError: If the storage could not be reached on any attempt (a
                ``TimeoutError``; ``APITimeoutError`` when it did not answer in time).

        Wire: ``POST /files/upload-url``, ``PUT <uploadUrl>``, ``POST /files/{fileId}/complete``
        """
        options, kwargs = split_options(kwargs)
        file_path = kwargs.pop("file_path", None)
        if file is None:
            file = file_path
        elif file_path is not None:
            raise TypeError("upload() takes the file or file_path=, not both")
        if file is None:
            raise ValueError("upload() needs a file: a path, bytes or a readable object")
        mime_type = kwargs.pop("mime_type", None)
        async with UploadSource(file, name=name, file_hash=kwargs.pop("file_hash", None)) as source:
            mime = mime_type or detect_mime_type(source.name, source.head)
            fields = {
                "fileName": source.name,
                "fileSize": source.size,
                "fileHash": source.sha256,
                "mimeType": mime,
                "teamId": self._client.team_id,
                "metadata": metadata or None,
                # The store itself then refuses other bytes (S3 checks x-amz-checksum-sha256),
                # so complete need not read the object back to verify it.
                "signChecksum": True,
            }
            body = make_body(fields, kwargs)
            created = await self._client._request(
                "POST", "/files/upload-url", body=body, options=options
            )
            entity, file_id, url, signed = upload_target(
                created, "file", "fileId", "POST /files/upload-url"
            )
            # The store may have signed the Content-Type it recorded; send exactly that one.
            headers = {
                "Content-Type": str(entity.get("mimeType") or mime),
                "Content-Length": str(source.size),
                **signed,
            }
            try:
                await self._client._transfer(
                    "upload",
                    "PUT",
                    url,
                    options=options,
                    headers=headers,
                    content=source.bodies(progress),
                )
            except Exception:
                # Best effort: a failed upload leaves no pending file behind.
                with contextlib.suppress(Exception):
                    await self.delete(file_id, **cleanup_options(options))
                raise
            return await self.complete(
                file_id,
                file_size=source.size,
                file_hash=source.sha256,
                **follow_up_options(options),
            )

    async def complete(
        self,
        file_id: str,
        *,
        file_size: Optional[int] = None,
        file_hash: Optional[str] = None,
        **kwargs: Any,
    ) -> FileAsyncModel:
        """Complete an upload (the last step of ``upload``, after the bytes went to the URL
        ``get_upload_url`` gave): the server checks the stored bytes and the file becomes
        ``completed``, or ``failed`` when they differ from what was declared.

        Args:
            file_id: The pending file.
            file_size: The size in bytes, checked against the stored object.
            file_hash: The SHA-256 (hex), checked against the stored object.
            **kwargs: Request options (``timeout``, ``idempotency_key``, ...); other fields,
                sent with camelCase keys.

        Raises:
            ValidationError: If the stored bytes do not match (the file is then ``failed``).
            NotFoundError: If the file doesn't exist.

        Wire: ``POST /files/{fileId}/complete``
        """
        options, kwargs = split_options(kwargs)
        body = make_body({"fileSize": file_size, "fileHash": file_hash}, kwargs)
        path = f"{_file_path(file_id)}/complete"
        return await self._post(path, FileAsyncModel, body=body, options=options)

    async def download(
        self,
        file_id: str,
        *,
        path: Optional[PathType] = None,
        progress: Optional[ProgressCallback] = None,
        file_hash: Optional[str] = None,
        **options: Unpack[RequestOptions],
    ) -> Optional[bytes]:
        """Download a file's content, checked against its size and SHA-256.

        Args:
            file_id: The ID of the file to download.
            path: Write the content to this file (parent folders are created; a temporary file
                beside it is renamed into place once complete and verified) and return ``None``.
                Without it, return the bytes.
            progress: Called as ``progress(bytes_done, total)`` while the bytes arrive.
            file_hash: The SHA-256 you expect, when the server's answer does not say (saves
                asking for the file).
            **options: Request options (``timeout``, ``max_retries``, ``extra_headers``, ...);
                the storage URL gets only ``timeout`` and ``max_retries``.

        Raises:
            NotFoundError: If the file doesn't exist.
            ValidationError: If its upload is not completed.
            APIError: If the bytes that arrived do not match the file's size or SHA-256.

        Wire: ``GET /files/{fileId}/download``, then ``GET <downloadUrl>`` (and
        ``GET /files/{fileId}`` first when the answer carries no ``fileHash``)
        """
        return await self._download_stored(
            _file_path(file_id),
            "fileSize",
            f"file {file_id}",
            path=path,
            progress=progress,
            file_hash=file_hash,
            options=options,
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
            **kwargs: Request options (``timeout``, ``extra_headers``, ...); other fields, sent
                with camelCase keys.

        Raises:
            NotFoundError: If the file doesn't exist, or the server does not offer the
                ``file-update`` extension (the message says which).
            ValidationError: If the request data is invalid.

        Wire: ``PATCH /files/{fileId}`` (an extension of the published API:
        docs/reference/api.md, Extensions)
        """
        options, kwargs = split_options(kwargs)
        fields = {"fileName": name, "datasetId": dataset_id, "metadata": metadata}
        body = make_body(fields, kwargs)
        path = _file_path(file_id)
        return await self._in_extension(
            EXTENSION_FILE_UPDATE,
            "PATCH /files/{fileId}",
            lambda: self._patch(path, FileAsyncModel, body=body, options=options),
        )

    async def delete(self, file_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a file permanently, stored bytes included.

        Args:
            file_id: The ID of the file to delete.
            **options: Request options (``timeout``, ``max_retries``, ``extra_headers``, ...).

        Raises:
            NotFoundError: If the file doesn't exist.

        Wire: ``DELETE /files/{fileId}``
        """
        await self._delete(_file_path(file_id), options=options)

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
        """Create a pending file and a presigned URL to PUT its bytes to (the low-level first
        step of ``upload``; finish with ``complete``).

        Args:
            filename: The file name.
            file_size: Exact size in bytes; the URL accepts exactly that many.
            mime_type: MIME type; the PUT must send it as ``Content-Type``.
            dataset_id: Dataset to link the file to.
            file_hash: SHA-256 (hex) of the content; may also be given only at completion.
            **kwargs: Request options (``timeout``, ``idempotency_key``, ...); other fields
                (e.g. ``metadata``), sent with camelCase keys.

        Returns:
            The server's answer: ``{"file": {...}, "uploadUrl": "...", "expiresAt": "...",
            "uploadHeaders": {...}}`` (the PUT must carry ``uploadHeaders``).

        Raises:
            ValidationError: If the request data is invalid (e.g. the file is too large).

        Wire: ``POST /files/upload-url``
        """
        options, kwargs = split_options(kwargs)
        fields = {
            "fileName": filename,
            "fileSize": file_size,
            "mimeType": mime_type,
            "datasetId": dataset_id,
            "fileHash": file_hash,
            "teamId": self._client.team_id,
        }
        answer: Dict[str, Any] = await self._client._request(
            "POST", "/files/upload-url", body=make_body(fields, kwargs), options=options
        )
        return answer


def _file_path(file_id: str) -> str:
    return f"/files/{path_param(file_id, 'file_id')}"


if TYPE_CHECKING:

    def _models_view(files: AsyncFiles) -> FilesAPI:
        return files  # mypy: the resource is what FileAsyncModel takes it for
