"""Pipeline configuration versions resource: the numbered configuration documents of a pipeline,
their validation and the document's JSON Schema."""

from typing import Any, Dict, List, Optional

from typing_extensions import Unpack

from ... import _io_async
from ..._base_client import RequestOptions, list_query, make_body, path_param, split_options
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource
from ..models.pipeline import PipelineConfigurationVersionAsyncModel

__all__ = ["AsyncPipelineConfigurationVersions"]

_PATH = "/pipeline-configuration-versions"


class AsyncPipelineConfigurationVersions(AsyncBaseResource):
    """Manage pipeline configuration versions.

    A configuration version holds a pipeline's logic: the blocks, the connections between their
    ports, and the workflow's metadata. Versions are numbered per pipeline (1, 2, ...) and are
    ``draft``, ``current`` (at most one per pipeline) or ``archived``. Every method except
    ``validate`` and ``get_schema`` returns ``PipelineConfigurationVersionAsyncModel`` objects.

    Example::

        version = await client.pipeline_configuration_versions.create(
            pipeline_id=pipeline.pipeline_id,
            configuration={
                "id": "echo", "name": "Echo", "version": "1.0.0",
                "blocks": {
                    "user_input": {"id": "user_input", "type": "input",
                                   "config": {"json_schema": {"type": "string"}}},
                    "echo_result": {"id": "echo_result", "type": "output",
                                    "config": {"name": "echoed_message"}},
                },
                "connections": [{"source_block_id": "user_input", "source_port": "data",
                                 "target_block_id": "echo_result", "target_port": "data"}],
            },
        )
        report = await client.pipeline_configuration_versions.validate(version.configuration)
        assert report["valid"], report["errors"]
        draft = await client.pipeline_configuration_versions.clone(
            version.pipeline_configuration_version_id
        )  # next version number, draft
        schema = await client.pipeline_configuration_versions.get_schema()  # Draft 7
    """

    @_io_async.paginated
    async def list(
        self,
        *,
        pipeline_ids: Optional[List[str]] = None,
        pipeline_configuration_version_ids: Optional[List[str]] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: Optional[str] = None,
        order_direction: str = "asc",
        **options: Unpack[RequestOptions],
    ) -> AsyncPage[PipelineConfigurationVersionAsyncModel]:
        """List configuration versions with pagination.

        Args:
            pipeline_ids: Only versions of these pipelines.
            pipeline_configuration_version_ids: Only these versions.
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-1000). Defaults to 10.
            order_by: "version", "createdAt" or "updatedAt" (snake_case works too); the
                server sorts by "createdAt" when not given.
            order_direction: Sort direction ("asc" or "desc"). Defaults to "asc".

        Returns:
            A page of ``PipelineConfigurationVersionAsyncModel`` objects.

        Wire: ``GET /pipeline-configuration-versions``
        """
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            pipelineIds=pipeline_ids,
            pipelineConfigurationVersionIds=pipeline_configuration_version_ids,
        )
        model = PipelineConfigurationVersionAsyncModel
        return await self._get_page(_PATH, model, query=query, options=options)

    async def retrieve(
        self, pipeline_configuration_version_id: str, **options: Unpack[RequestOptions]
    ) -> PipelineConfigurationVersionAsyncModel:
        """Retrieve a specific configuration version by ID.

        Args:
            pipeline_configuration_version_id: The ID of the version to retrieve.

        Raises:
            NotFoundError: If the version doesn't exist (or belongs to another team).

        Wire: ``GET /pipeline-configuration-versions/{pipelineConfigurationVersionId}``
        """
        path = _version_path(pipeline_configuration_version_id)
        return await self._get(path, PipelineConfigurationVersionAsyncModel, options=options)

    async def create(
        self, *, pipeline_id: str, configuration: Dict[str, Any], **kwargs: Any
    ) -> PipelineConfigurationVersionAsyncModel:
        """Create a configuration version; the server gives it the pipeline's next number.

        Only the document's structure is checked here (``validate`` reports every rule).

        Args:
            pipeline_id: The pipeline the version belongs to.
            configuration: The configuration document (``id``, ``name``, ``blocks``,
                ``connections``, ...), stored as given.
            **kwargs: Other fields with camelCase keys, e.g. ``status="current"`` (default
                "draft"); the request options (``timeout``, ...) are taken out first.

        Raises:
            ValidationError: If the document is structurally invalid (``validation_details``
                lists the errors).
            NotFoundError: If the pipeline doesn't exist.
            ConflictError: If ``status="current"`` while another version is current.

        Wire: ``POST /pipeline-configuration-versions``
        """
        options, kwargs = split_options(kwargs)
        fields = {"pipelineId": pipeline_id, "configuration": configuration}
        body = make_body(fields, kwargs)
        model = PipelineConfigurationVersionAsyncModel
        return await self._post(_PATH, model, body=body, options=options)

    async def update(
        self,
        pipeline_configuration_version_id: str,
        *,
        configuration: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PipelineConfigurationVersionAsyncModel:
        """Update a configuration version; only the given fields change.

        Args:
            pipeline_configuration_version_id: The ID of the version to update.
            configuration: The new configuration document (refused on a ``current`` version).
            **kwargs: Other fields with camelCase keys, e.g. ``status="current"``; the request
                options (``timeout``, ...) are taken out first.

        Raises:
            NotFoundError: If the version doesn't exist.
            ValidationError: If the configuration is invalid, or the version is current.
            ConflictError: If it would make a second current version.

        Wire: ``PATCH /pipeline-configuration-versions/{pipelineConfigurationVersionId}``
        """
        options, kwargs = split_options(kwargs)
        body = make_body({"configuration": configuration}, kwargs)
        path = _version_path(pipeline_configuration_version_id)
        model = PipelineConfigurationVersionAsyncModel
        return await self._patch(path, model, body=body, options=options)

    async def delete(
        self, pipeline_configuration_version_id: str, **options: Unpack[RequestOptions]
    ) -> None:
        """Delete a configuration version (a ``current`` one must be archived first).

        Args:
            pipeline_configuration_version_id: The ID of the version to delete.

        Raises:
            NotFoundError: If the version doesn't exist.
            ValidationError: If the version is current.

        Wire: ``DELETE /pipeline-configuration-versions/{pipelineConfigurationVersionId}``
        """
        await self._delete(_version_path(pipeline_configuration_version_id), options=options)

    async def clone(
        self, pipeline_configuration_version_id: str, **options: Unpack[RequestOptions]
    ) -> PipelineConfigurationVersionAsyncModel:
        """Copy a configuration version: new ID, the pipeline's next number, ``draft`` status.

        Args:
            pipeline_configuration_version_id: The ID of the version to clone.

        Raises:
            NotFoundError: If the version doesn't exist.

        Wire: ``POST /pipeline-configuration-versions/{pipelineConfigurationVersionId}/clone``
        """
        path = f"{_version_path(pipeline_configuration_version_id)}/clone"
        model = PipelineConfigurationVersionAsyncModel
        return await self._post(path, model, body={}, options=options)

    async def validate(
        self, configuration: Dict[str, Any], **options: Unpack[RequestOptions]
    ) -> Dict[str, Any]:
        """Check a configuration document against every rule, storing nothing.

        Args:
            configuration: The configuration document.

        Returns:
            The report: ``valid`` (no errors), ``errors`` and ``warnings`` (dicts with
            ``type``, ``errorType``, ``message``, ``blockId`` or the connection's endpoints),
            ``inputSchema`` and ``outputSchema`` (or ``None``). An invalid document is a
            report with ``valid: False``, not an exception.

        Raises:
            ValidationError: If ``configuration`` is not a JSON object.

        Wire: ``POST /pipeline-configuration-versions/validate``
        """
        report: Dict[str, Any] = await self._client._request(
            "POST", f"{_PATH}/validate", body={"configuration": configuration}, options=options
        )
        return report

    async def get_schema(self, **options: Unpack[RequestOptions]) -> Dict[str, Any]:
        """The Draft 7 JSON Schema of the configuration document (every block type's config).

        Wire: ``GET /pipeline-configuration-versions/schema``
        """
        schema: Dict[str, Any] = await self._client._request(
            "GET", f"{_PATH}/schema", options=options
        )
        return schema


def _version_path(version_id: str) -> str:
    return f"{_PATH}/{path_param(version_id, 'pipeline_configuration_version_id')}"
