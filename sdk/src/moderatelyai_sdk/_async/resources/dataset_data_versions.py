"""Dataset data versions (``client.datasets.data_versions``): the uploaded files of a dataset,
numbered per dataset, and their transfers through presigned URLs."""

from typing import Any, Dict, List, Optional

from typing_extensions import Unpack

from ... import _io_async
from ..._base_client import (
    RequestOptions,
    follow_up_options,
    list_query,
    make_body,
    path_param,
    split_options,
)
from ..._datasets import CONTENT_TYPES, DEFAULT_DATA_NAME, data_file_type
from ..._files import OCTET_STREAM, upload_target
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource
from .._streams import PathType, ProgressCallback, UploadSource
from ..models.dataset import DatasetDataVersionAsyncModel

__all__ = ["AsyncDatasetDataVersions"]

_PATH = "/dataset-data-versions"


class AsyncDatasetDataVersions(AsyncBaseResource):
    """The data versions of the team's datasets: each upload of a dataset's data is a version
    (``version_no`` 1, 2, ... per dataset); a ``current`` one is the data the dataset serves and
    processes, the previous current one is archived. A dataset's own methods (``upload_data``,
    ``download_data``, ``list_data_versions``) make the same calls for one dataset.

    Example::

        version = await client.datasets.data_versions.upload(dataset_id, "sales.csv")
        print(version.version_no, version.row_count)  # rows counted by the server
        data = await client.datasets.data_versions.download(version.dataset_data_version_id)
        async for v in client.datasets.data_versions.list(dataset_ids=[dataset_id]):
            print(v.version_no, v.status)
    """

    @_io_async.paginated
    async def list(
        self,
        *,
        dataset_ids: Optional[List[str]] = None,
        dataset_data_version_ids: Optional[List[str]] = None,
        status: Optional[str] = None,
        version_no: Optional[int] = None,
        file_type: Optional[str] = None,
        upload_status: Optional[str] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "createdAt",
        order_direction: str = "desc",
        **options: Unpack[RequestOptions],
    ) -> AsyncPage[DatasetDataVersionAsyncModel]:
        """List data versions of the team's datasets, newest first by default.

        Args:
            dataset_ids: Only versions of these datasets.
            dataset_data_version_ids: Only these versions.
            status: Only versions in this status ("draft", "current" or "archived").
            version_no: Only versions with this number.
            file_type: Only versions of this type ("csv" or "xlsx").
            upload_status: Only versions whose upload is "pending", "completed" or "failed".
            page: Page number (1-based). Defaults to 1.
            page_size: Versions per page (1-1000). Defaults to 10.
            order_by: "createdAt", "updatedAt" or "versionNo". Defaults to "createdAt".
            order_direction: "asc" or "desc". Defaults to "desc".
            **options: Request options (``timeout``, ``max_retries``, ``extra_headers``, ...).

        Returns:
            A page of ``DatasetDataVersionAsyncModel`` objects; ``auto_paging_iter()`` (or
            ``async for`` over the call) walks every version.

        Wire: ``GET /dataset-data-versions``
        """
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            datasetIds=dataset_ids,
            datasetDataVersionIds=dataset_data_version_ids,
            status=status,
            versionNo=version_no,
            fileType=file_type,
            uploadStatus=upload_status,
        )
        model = DatasetDataVersionAsyncModel
        return await self._get_page(_PATH, model, query=query, options=options)

    async def retrieve(
        self, data_version_id: str, **options: Unpack[RequestOptions]
    ) -> DatasetDataVersionAsyncModel:
        """One data version by ID.

        Args:
            data_version_id: The version's ID (``dataset_data_version_id``).
            **options: Request options (``timeout``, ``max_retries``, ``extra_headers``, ...).

        Raises:
            NotFoundError: If it doesn't exist (or belongs to another team).

        Wire: ``GET /dataset-data-versions/{datasetDataVersionId}``
        """
        path = _version_path(data_version_id)
        return await self._get(path, DatasetDataVersionAsyncModel, options=options)

    async def upload(
        self,
        dataset_id: str,
        file: Any,
        *,
        file_type: Optional[str] = None,
        status: str = "current",
        progress: Optional[ProgressCallback] = None,
        **kwargs: Any,
    ) -> DatasetDataVersionAsyncModel:
        """Upload a new data version of a dataset, streamed and SHA-256 verified like files.

        The size and SHA-256 are declared when the version is created (the URL then takes
        exactly those bytes) and again when it is completed; the server counts the rows itself
        (quoted line breaks, BOM, no final newline) and returns them as ``row_count``. A failed
        transfer leaves the pending version to expire (the API has no way to delete one).

        Args:
            dataset_id: The dataset.
            file: A path (str or Path), bytes, a binary file object, or (async client) an
                object with ``async def read(n)``.
            file_type: "csv" (any delimited text; the schema's parsing options say how to read
                it) or "xlsx". Default: from the extension (.csv, .tsv, .txt -> csv; .xlsx,
                .xls -> xlsx), else from the content.
            status: "current" (default: becomes the dataset's current data, the previous one is
                archived) or "draft".
            progress: Called as ``progress(bytes_sent, total)`` while the bytes go out.
            **kwargs: ``filename=`` (or ``file_name=``, ``name=``) names bytes or an unnamed
                stream (default "uploaded_data"); ``file_hash=`` (a SHA-256 you computed
                already) saves the hashing pass; request options (``timeout``, ...; an
                ``idempotency_key`` names the create request); other fields go to the create
                request with camelCase keys.

        Returns:
            The completed version (``version_no``, ``row_count``, ``file_hash``, ...).

        Raises:
            ValueError: If the path does not exist (also a ``FileNotFoundError``) or the type
                cannot be told; before any request.
            ValidationError: If the server refuses the version or the stored bytes do not
                match what was declared.
            NotFoundError: If the dataset doesn't exist.

        Wire: ``POST /dataset-data-versions``, ``PUT <uploadUrl>``,
        ``POST /dataset-data-versions/{dataVersionId}/complete``
        """
        options, kwargs = split_options(kwargs)
        names = [kwargs.pop(key, None) for key in ("filename", "file_name", "name")]
        name = next((given for given in names if given), None)
        path_param(dataset_id, "dataset_id")  # an empty id is refused before any I/O
        file_hash = kwargs.pop("file_hash", None)
        async with UploadSource(
            file, name=name, file_hash=file_hash, default_name=DEFAULT_DATA_NAME
        ) as source:
            wire_type = data_file_type(file_type, source.name, source.head)
            created = await self.create(
                dataset_id=dataset_id,
                file_name=source.name,
                file_type=wire_type,
                status=status,
                file_size_bytes=source.size,
                file_hash=source.sha256,
                # The store itself then refuses other bytes (as for files).
                sign_checksum=True,
                **kwargs,
                **options,
            )
            _, version_id, url, signed = upload_target(
                created, "dataVersion", "datasetDataVersionId", f"POST {_PATH}"
            )
            headers = {
                "Content-Type": CONTENT_TYPES.get(wire_type, OCTET_STREAM),
                "Content-Length": str(source.size),
                **signed,
            }
            content = source.bodies(progress)
            await self._client._transfer(
                "upload", "PUT", url, options=options, headers=headers, content=content
            )
            return await self.complete(
                version_id,
                file_size_bytes=source.size,
                file_hash=source.sha256,
                **follow_up_options(options),
            )

    async def create(
        self,
        *,
        dataset_id: str,
        file_name: str,
        file_type: str,
        status: str = "current",
        file_size_bytes: Optional[int] = None,
        file_hash: Optional[str] = None,
        **kwargs: Any,
    ) -> Dict[str, Any]:
        """Create a pending data version and a presigned URL to PUT its bytes to (the low-level
        first step of ``upload``; finish with ``complete``).

        Args:
            dataset_id: The dataset.
            file_name: The file's name.
            file_type: "csv" or "xlsx".
            status: "current" (default) or "draft": what the version becomes once completed.
            file_size_bytes: Exact size in bytes; the URL then accepts exactly that many.
            file_hash: SHA-256 (hex) of the content.
            **kwargs: Request options (``timeout``, ``idempotency_key``, ...); other fields,
                sent with camelCase keys (e.g. ``sign_checksum=True``: the store checks the
                SHA-256 itself).

        Returns:
            The server's answer: ``{"dataVersion": {...}, "uploadUrl": "...", "expiresAt":
            "...", "uploadHeaders": {...}}`` (the PUT must carry ``uploadHeaders``).

        Raises:
            ValidationError: If the request data is invalid (e.g. an unknown file type).
            NotFoundError: If the dataset doesn't exist.

        Wire: ``POST /dataset-data-versions``
        """
        options, kwargs = split_options(kwargs)
        fields = {
            "datasetId": dataset_id,
            "fileName": file_name,
            "fileType": file_type,
            "status": status,
            "fileSizeBytes": file_size_bytes,
            "fileHash": file_hash,
        }
        body = make_body(fields, kwargs)
        answer: Dict[str, Any] = await self._client._request(
            "POST", _PATH, body=body, options=options
        )
        return answer

    async def complete(
        self,
        data_version_id: str,
        *,
        file_size_bytes: Optional[int] = None,
        file_hash: Optional[str] = None,
        **kwargs: Any,
    ) -> DatasetDataVersionAsyncModel:
        """Complete a data version's upload: the server checks the stored bytes, counts the
        rows and, for a version created ``current``, makes it the dataset's current data.

        Args:
            data_version_id: The pending version.
            file_size_bytes: The size in bytes, checked against the stored object.
            file_hash: The SHA-256 (hex), checked against the stored object.
            **kwargs: Request options (``timeout``, ``idempotency_key``, ...); other fields,
                sent with camelCase keys.

        Raises:
            ValidationError: If the stored bytes do not match what was declared.
            NotFoundError: If the version doesn't exist.

        Wire: ``POST /dataset-data-versions/{dataVersionId}/complete``
        """
        options, kwargs = split_options(kwargs)
        body = make_body({"fileSizeBytes": file_size_bytes, "fileHash": file_hash}, kwargs)
        path = f"{_version_path(data_version_id)}/complete"
        return await self._post(path, DatasetDataVersionAsyncModel, body=body, options=options)

    async def download(
        self,
        data_version_id: str,
        *,
        path: Optional[PathType] = None,
        progress: Optional[ProgressCallback] = None,
        file_hash: Optional[str] = None,
        **options: Unpack[RequestOptions],
    ) -> Optional[bytes]:
        """Download a data version's bytes, checked against its size and SHA-256.

        Args:
            data_version_id: The version to download.
            path: Write them to this file (parent folders are created; a temporary file beside
                it is renamed into place once complete and verified) and return ``None``.
                Without it, return the bytes.
            progress: Called as ``progress(bytes_done, total)`` while the bytes arrive.
            file_hash: The SHA-256 you expect, when the server's answer does not say (saves
                asking for the version).
            **options: Request options (``timeout``, ``max_retries``, ``extra_headers``, ...);
                the storage URL gets only ``timeout`` and ``max_retries``.

        Raises:
            ValidationError: If the upload of this version did not complete.
            NotFoundError: If the version (or its dataset) doesn't exist.
            APIError: If the bytes that arrived do not match the version's size or SHA-256.

        Wire: ``GET /dataset-data-versions/{dataVersionId}/download``, then
        ``GET <downloadUrl>`` (and ``GET /dataset-data-versions/{datasetDataVersionId}`` first
        when the answer carries no ``fileHash``)
        """
        return await self._download_stored(
            _version_path(data_version_id),
            "fileSizeBytes",
            f"data version {data_version_id}",
            path=path,
            progress=progress,
            file_hash=file_hash,
            options=options,
        )


def _version_path(data_version_id: str) -> str:
    return f"{_PATH}/{path_param(data_version_id, 'data_version_id')}"
