"""Datasets resource (and the data-version and schema-version calls its models make)."""

import contextlib
import os
from typing import Any, Dict, List, Optional, Union

from ... import _io_async
from ..._base_client import list_query, make_body, path_param
from ..._datasets import wire_parsing_options
from ..._exceptions import APIError
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource
from .._transfer import ProgressCallback, download_data_version, upload_data_version, upload_file
from ..models.dataset import (
    DatasetAsyncModel,
    DatasetDataVersionAsyncModel,
    DatasetSchemaVersionAsyncModel,
)

__all__ = ["AsyncDatasets"]

PathType = Union[str, "os.PathLike[str]"]


class AsyncDatasets(AsyncBaseResource):
    """Manage datasets in your team: versioned tabular data, schemas and processing.

    Every method returns ``DatasetAsyncModel`` objects, whose methods upload and download data
    versions, manage schema versions and run processing.

    Example::

        dataset = await client.datasets.create(name="Customer Data", description="Interactions")
        version = await dataset.upload_data("/path/to/sales_data.csv")
        print(f"Uploaded version {version.version_no} with {version.row_count} rows")
        await dataset.create_schema_from_sample("/path/to/sales_data.csv", status="current")
        await dataset.process()  # waits until processing completed (ProcessingError if not)
        print(dataset.record_count, dataset.processing_status)
        page = await client.datasets.list(name_like="customer")
        async for d in page.auto_paging_iter():
            print(d.name)
        await dataset.delete()
    """

    async def list(
        self,
        *,
        dataset_ids: Optional[List[str]] = None,
        name_like: Optional[str] = None,
        name: Optional[str] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "createdAt",
        order_direction: str = "desc",
    ) -> AsyncPage[DatasetAsyncModel]:
        """List the team's datasets with pagination and filters.

        Args:
            dataset_ids: Only these datasets.
            name_like: Only datasets whose name contains this text (any case).
            name: Only the dataset with exactly this name.
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-1000). Defaults to 10.
            order_by: "createdAt", "updatedAt" or "name" (snake_case works too). Defaults to
                "createdAt".
            order_direction: Sort direction ("asc" or "desc"). Defaults to "desc".

        Returns:
            A page: ``["items"]`` holds ``DatasetAsyncModel`` objects, ``["pagination"]`` the
            paging info; ``auto_paging_iter()`` walks every dataset.

        Wire: ``GET /datasets``
        """
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            datasetIds=dataset_ids,
            nameLike=name_like or None,
            name=name,
        )
        return await self._get_page("/datasets", DatasetAsyncModel, query=query)

    async def retrieve(self, dataset_id: str) -> DatasetAsyncModel:
        """Retrieve a specific dataset by ID.

        Args:
            dataset_id: The ID of the dataset to retrieve.

        Raises:
            NotFoundError: If the dataset doesn't exist (or belongs to another team).

        Wire: ``GET /datasets/{datasetId}``
        """
        return await self._get(_dataset_path(dataset_id), DatasetAsyncModel)

    async def create(
        self, *, name: str, description: Optional[str] = None, **kwargs: Any
    ) -> DatasetAsyncModel:
        """Create a dataset in the client's team.

        Args:
            name: Name, unique within the team (1-255 characters).
            description: Free text.
            **kwargs: Other fields, sent with camelCase keys (e.g. ``team_id``).

        Raises:
            ConflictError: If the team has a dataset of that name.
            ValidationError: If the request data is invalid.

        Wire: ``POST /datasets``
        """
        fields = {"name": name, "teamId": self._client.team_id, "description": description}
        return await self._post("/datasets", DatasetAsyncModel, body=make_body(fields, kwargs))

    async def update(
        self,
        dataset_id: str,
        *,
        name: Optional[str] = None,
        description: Optional[str] = None,
        should_process: Optional[bool] = None,
        **kwargs: Any,
    ) -> DatasetAsyncModel:
        """Update a dataset; only the given fields change.

        Args:
            dataset_id: The ID of the dataset to update.
            name: New name.
            description: New description.
            should_process: ``True`` queues processing of the current data version with the
                current schema (``processing_status`` becomes ``in_progress``, then
                ``completed`` or ``failed``); see ``DatasetAsyncModel.wait_for_processing``.
            **kwargs: Other fields, sent with camelCase keys.

        Raises:
            NotFoundError: If the dataset doesn't exist.
            ConflictError: If another dataset of the team has the new name.
            ValidationError: If the request data is invalid.

        Wire: ``PATCH /datasets/{datasetId}``
        """
        fields = {"name": name, "description": description, "shouldProcess": should_process}
        return await self._update(dataset_id, make_body(fields, kwargs))

    async def delete(self, dataset_id: str) -> None:
        """Delete a dataset with its data and schema versions and their stored bytes.

        Args:
            dataset_id: The ID of the dataset to delete.

        Raises:
            NotFoundError: If the dataset doesn't exist.

        Wire: ``DELETE /datasets/{datasetId}``
        """
        await self._delete(_dataset_path(dataset_id))

    # --- calls made by the dataset models -----------------------------------------------------

    async def _update(self, dataset_id: str, body: Dict[str, Any]) -> DatasetAsyncModel:
        return await self._patch(_dataset_path(dataset_id), DatasetAsyncModel, body=body)

    async def _upload_data(
        self,
        dataset_id: str,
        file: Any,
        *,
        file_type: Optional[str],
        status: str,
        progress: Optional[ProgressCallback],
        extra: Dict[str, Any],
    ) -> DatasetDataVersionAsyncModel:
        names = [extra.pop(key, None) for key in ("filename", "file_name", "name")]
        name = next((given for given in names if given), None)
        data = await upload_data_version(
            self._client,
            path_param(dataset_id, "dataset_id"),
            file,
            file_type=file_type,
            status=status,
            name=name,
            file_hash=extra.pop("file_hash", None),
            progress=progress,
            extra=extra,
        )
        return self._client._cast(DatasetDataVersionAsyncModel, data)

    async def _download_data(
        self,
        version_id: str,
        *,
        path: Optional[PathType],
        progress: Optional[ProgressCallback],
        file_hash: Optional[str] = None,
        file_size: Optional[int] = None,
    ) -> Optional[bytes]:
        return await download_data_version(
            self._client,
            version_id,
            path=path,
            progress=progress,
            file_hash=file_hash,
            file_size=file_size,
        )

    async def _list_data_versions(
        self, dataset_id: str, *, page: int, page_size: int, status: Optional[str]
    ) -> List[DatasetDataVersionAsyncModel]:
        # Newest first (api.md 7.2 Q10).
        query = list_query(
            page=page,
            page_size=page_size,
            order_by="versionNo",
            order_direction="desc",
            datasetIds=path_param(dataset_id, "dataset_id"),
            status=status,
        )
        found = await self._get_page(
            "/dataset-data-versions", DatasetDataVersionAsyncModel, query=query
        )
        return found.data

    async def _get_data_version(self, version_id: str) -> DatasetDataVersionAsyncModel:
        path = f"/dataset-data-versions/{path_param(version_id, 'version_id')}"
        return await self._get(path, DatasetDataVersionAsyncModel)

    async def _create_schema_version(self, body: Dict[str, Any]) -> DatasetSchemaVersionAsyncModel:
        return await self._post(
            "/dataset-schema-versions", DatasetSchemaVersionAsyncModel, body=body
        )

    async def _list_schema_versions(
        self, dataset_id: str, *, status: Optional[str], page: int, page_size: int
    ) -> List[DatasetSchemaVersionAsyncModel]:
        query = list_query(
            page=page,
            page_size=page_size,
            order_by="createdAt",
            order_direction="desc",
            datasetIds=path_param(dataset_id, "dataset_id"),
            status=status,
        )
        found = await self._get_page(
            "/dataset-schema-versions", DatasetSchemaVersionAsyncModel, query=query
        )
        return found.data

    async def _get_schema_version(self, schema_version_id: str) -> DatasetSchemaVersionAsyncModel:
        return await self._get(_schema_path(schema_version_id), DatasetSchemaVersionAsyncModel)

    async def _update_schema_version(
        self, schema_version_id: str, body: Dict[str, Any]
    ) -> DatasetSchemaVersionAsyncModel:
        path = _schema_path(schema_version_id)
        return await self._patch(path, DatasetSchemaVersionAsyncModel, body=body)

    async def _infer_schema(
        self,
        sample: Any,
        *,
        header_row: int,
        sample_size: int,
        parsing_options: Any,
    ) -> Dict[str, Any]:
        """Columns and parsing options of a sample, inferred by the server's engine: the sample
        is uploaded as a temporary file, read by ``POST /dataset-schema-versions/infer``, then
        deleted."""
        options = wire_parsing_options(parsing_options) or {}
        if header_row != 1:
            options["headerRow"] = header_row
        uploaded = await upload_file(
            self._client,
            sample,
            name=None,
            metadata={"purpose": "dataset schema sample"},
            mime_type=None,
            file_hash=None,
            progress=None,
            extra={},
        )
        file_id = uploaded.get("fileId") if isinstance(uploaded, dict) else None
        if not isinstance(file_id, str) or not file_id:
            raise APIError("Unexpected answer to POST /files/{fileId}/complete: no fileId")
        try:
            body: Dict[str, Any] = {"fileId": file_id, "sampleRows": sample_size}
            if options and "delimiter" not in options:
                # Options given without a delimiter: the server then reads ",", so learn the
                # delimiter and encoding it sniffs first.
                sniffed = await self._client._request(
                    "POST", "/dataset-schema-versions/infer", body=body
                )
                guessed = sniffed.get("parsingOptions") if isinstance(sniffed, dict) else None
                if isinstance(guessed, dict):
                    options = {**_pick(guessed, "delimiter", "encoding"), **options}
            if options:
                body["parsingOptions"] = options
            inferred = await self._client._request(
                "POST", "/dataset-schema-versions/infer", body=body
            )
        finally:
            with _io_async.shield(), contextlib.suppress(Exception):
                await self._client._request("DELETE", f"/files/{path_param(file_id, 'file_id')}")
        if not isinstance(inferred, dict) or not isinstance(inferred.get("columns"), list):
            raise APIError("Unexpected answer to POST /dataset-schema-versions/infer: no columns")
        return inferred


def _dataset_path(dataset_id: str) -> str:
    return f"/datasets/{path_param(dataset_id, 'dataset_id')}"


def _schema_path(schema_version_id: str) -> str:
    return f"/dataset-schema-versions/{path_param(schema_version_id, 'schema_version_id')}"


def _pick(values: Dict[str, Any], *keys: str) -> Dict[str, Any]:
    return {key: values[key] for key in keys if values.get(key) is not None}
