"""Datasets resource, with its data versions and schema versions as sub-resources."""

from typing import TYPE_CHECKING, Any, List, Optional

from typing_extensions import Unpack

from ... import _io_async
from ..._base_client import RequestOptions, list_query, make_body, path_param, split_options
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource, AsyncResourceClient
from ..models.dataset import DatasetAsyncModel, DatasetsAPI
from .dataset_data_versions import AsyncDatasetDataVersions
from .dataset_schema_versions import AsyncDatasetSchemaVersions

__all__ = ["AsyncDatasets"]


class AsyncDatasets(AsyncBaseResource):
    """Manage datasets in your team: versioned tabular data, schemas and processing.

    Every method returns ``DatasetAsyncModel`` objects, whose methods upload and download data
    versions, manage schema versions and run processing. ``data_versions`` and
    ``schema_versions`` make the calls of those versions across datasets.

    Example::

        dataset = await client.datasets.create(name="Customer Data", description="Interactions")
        version = await dataset.upload_data("/path/to/sales_data.csv")
        print(f"Uploaded version {version.version_no} with {version.row_count} rows")
        await dataset.create_schema_from_sample("/path/to/sales_data.csv", status="current")
        await dataset.process()  # waits until processing completed (ProcessingError if not)
        print(dataset.record_count, dataset.processing_status)
        async for d in client.datasets.list(name_like="customer"):
            print(d.name)
        versions = await client.datasets.data_versions.list(dataset_ids=[dataset.dataset_id])
        await dataset.delete()
    """

    data_versions: AsyncDatasetDataVersions
    """The data versions of the team's datasets (``/dataset-data-versions``)."""
    schema_versions: AsyncDatasetSchemaVersions
    """The schema versions of the team's datasets (``/dataset-schema-versions``; the same calls
    as ``client.dataset_schema_versions``)."""

    def __init__(self, client: AsyncResourceClient) -> None:
        super().__init__(client)
        self.data_versions = AsyncDatasetDataVersions(client)
        self.schema_versions = AsyncDatasetSchemaVersions(client)

    @_io_async.paginated
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
        **options: Unpack[RequestOptions],
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
            **options: Request options (``timeout``, ``max_retries``, ``extra_headers``, ...).

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
        return await self._get_page("/datasets", DatasetAsyncModel, query=query, options=options)

    async def retrieve(
        self, dataset_id: str, **options: Unpack[RequestOptions]
    ) -> DatasetAsyncModel:
        """Retrieve a specific dataset by ID.

        Args:
            dataset_id: The ID of the dataset to retrieve.
            **options: Request options (``timeout``, ``max_retries``, ``extra_headers``, ...).

        Raises:
            NotFoundError: If the dataset doesn't exist (or belongs to another team).

        Wire: ``GET /datasets/{datasetId}``
        """
        return await self._get(_dataset_path(dataset_id), DatasetAsyncModel, options=options)

    async def create(
        self, *, name: str, description: Optional[str] = None, **kwargs: Any
    ) -> DatasetAsyncModel:
        """Create a dataset in the client's team.

        Args:
            name: Name, unique within the team (1-255 characters).
            description: Free text.
            **kwargs: Request options (``timeout``, ``idempotency_key``, ...); other fields,
                sent with camelCase keys (e.g. ``team_id``).

        Raises:
            ConflictError: If the team has a dataset of that name.
            ValidationError: If the request data is invalid.

        Wire: ``POST /datasets``
        """
        options, kwargs = split_options(kwargs)
        fields = {"name": name, "teamId": self._client.team_id, "description": description}
        body = make_body(fields, kwargs)
        return await self._post("/datasets", DatasetAsyncModel, body=body, options=options)

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
            **kwargs: Request options (``timeout``, ``extra_headers``, ...); other fields, sent
                with camelCase keys.

        Raises:
            NotFoundError: If the dataset doesn't exist.
            ConflictError: If another dataset of the team has the new name.
            ValidationError: If the request data is invalid.

        Wire: ``PATCH /datasets/{datasetId}``
        """
        options, kwargs = split_options(kwargs)
        fields = {"name": name, "description": description, "shouldProcess": should_process}
        body = make_body(fields, kwargs)
        path = _dataset_path(dataset_id)
        return await self._patch(path, DatasetAsyncModel, body=body, options=options)

    async def delete(self, dataset_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a dataset with its data and schema versions and their stored bytes.

        Args:
            dataset_id: The ID of the dataset to delete.
            **options: Request options (``timeout``, ``max_retries``, ``extra_headers``, ...).

        Raises:
            NotFoundError: If the dataset doesn't exist.

        Wire: ``DELETE /datasets/{datasetId}``
        """
        await self._delete(_dataset_path(dataset_id), options=options)


def _dataset_path(dataset_id: str) -> str:
    return f"/datasets/{path_param(dataset_id, 'dataset_id')}"


if TYPE_CHECKING:

    def _models_view(datasets: AsyncDatasets) -> DatasetsAPI:
        return datasets  # mypy: the resource is what the dataset models take it for
