"""Dataset schema versions resource: schema versions by ID, across datasets (the 0.2.7 module
``moderatelyai_sdk.resources.dataset_schema_versions``); a dataset's own methods
(``create_schema``, ``list_schema_versions``, ...) cover the same calls for one dataset."""

from typing import Any, Dict, List, Optional, Sequence

from ..._base_client import list_query, make_body, path_param
from ..._datasets import wire_columns, wire_parsing_options
from .._resource import AsyncBaseResource
from ..models.dataset import DatasetSchemaVersionAsyncModel

__all__ = ["AsyncDatasetSchemaVersions"]

_PATH = "/dataset-schema-versions"


class AsyncDatasetSchemaVersions(AsyncBaseResource):
    """Manage dataset schema versions (columns and parsing options, numbered per dataset).

    Example::

        schema = await client.dataset_schema_versions.create(
            dataset_id=dataset.dataset_id,
            columns=[{"name": "id", "type": "int"}, {"name": "email", "type": "string"}],
            status="current",
        )
        drafts = await client.dataset_schema_versions.list(
            dataset_ids=[dataset.dataset_id], status="draft"
        )
    """

    async def list(
        self,
        *,
        dataset_ids: Optional[List[str]] = None,
        dataset_schema_version_ids: Optional[List[str]] = None,
        status: Optional[str] = None,
        version_no: Optional[int] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "createdAt",
        order_direction: str = "desc",
    ) -> List[DatasetSchemaVersionAsyncModel]:
        """One page of schema versions of the team's datasets, newest first by default.

        Args:
            dataset_ids: Only versions of these datasets.
            dataset_schema_version_ids: Only these versions.
            status: Only versions in this status ("draft", "current" or "archived").
            version_no: Only versions with this number.
            page: Page number (1-based). Defaults to 1.
            page_size: Versions per page (1-1000). Defaults to 10.
            order_by: "createdAt", "updatedAt" or "versionNo". Defaults to "createdAt".
            order_direction: "asc" or "desc". Defaults to "desc".

        Wire: ``GET /dataset-schema-versions``
        """
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            datasetIds=dataset_ids,
            datasetSchemaVersionIds=dataset_schema_version_ids,
            status=status,
            versionNo=version_no,
        )
        found = await self._get_page(_PATH, DatasetSchemaVersionAsyncModel, query=query)
        return found.data

    async def retrieve(self, schema_version_id: str) -> DatasetSchemaVersionAsyncModel:
        """One schema version by ID.

        Raises:
            NotFoundError: If it doesn't exist (or belongs to another team).

        Wire: ``GET /dataset-schema-versions/{datasetSchemaVersionId}``
        """
        return await self._get(_schema_path(schema_version_id), DatasetSchemaVersionAsyncModel)

    async def create(
        self,
        *,
        dataset_id: str,
        columns: Sequence[Any],
        status: str = "draft",
        parsing_options: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> DatasetSchemaVersionAsyncModel:
        """Create a schema version of a dataset.

        Args:
            dataset_id: The dataset.
            columns: Column dicts as for ``DatasetModel.create_schema`` (``name``, ``type``,
                optional ``required``, ``description``, ...).
            status: "draft" (default), "current" or "archived".
            parsing_options: ``delimiter``, ``header_row``, ``skip_rows``, ``encoding``.
            **kwargs: Other fields, sent with camelCase keys.

        Raises:
            ValueError: If a column has no name or type, or there is none (before any request).
            ValidationError: If the server refuses a column or an option.
            NotFoundError: If the dataset doesn't exist.

        Wire: ``POST /dataset-schema-versions``
        """
        fields = {
            "datasetId": dataset_id,
            "columns": wire_columns(columns),
            "status": status,
            "parsingOptions": wire_parsing_options(parsing_options) or None,
        }
        body = make_body(fields, kwargs)
        return await self._post(_PATH, DatasetSchemaVersionAsyncModel, body=body)

    async def update(
        self,
        schema_version_id: str,
        *,
        status: Optional[str] = None,
        columns: Optional[Sequence[Any]] = None,
        parsing_options: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> DatasetSchemaVersionAsyncModel:
        """Change a schema version's status, columns or parsing options (only what is given).

        Raises:
            NotFoundError: If it doesn't exist.
            ValidationError: If the server refuses a column, an option or the status.

        Wire: ``PATCH /dataset-schema-versions/{datasetSchemaVersionId}``
        """
        fields = {
            "status": status,
            "columns": wire_columns(columns) if columns is not None else None,
            "parsingOptions": wire_parsing_options(parsing_options),
        }
        path = _schema_path(schema_version_id)
        return await self._patch(
            path, DatasetSchemaVersionAsyncModel, body=make_body(fields, kwargs)
        )


def _schema_path(schema_version_id: str) -> str:
    return f"{_PATH}/{path_param(schema_version_id, 'schema_version_id')}"
