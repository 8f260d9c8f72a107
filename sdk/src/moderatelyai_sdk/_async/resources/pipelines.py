"""Pipelines resource: named containers of configuration versions and their executions."""

from typing import Any, List, Optional

from typing_extensions import Unpack

from ... import _io_async
from ..._base_client import RequestOptions, list_query, make_body, path_param, split_options
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource
from ..models.pipeline import PipelineAsyncModel

__all__ = ["AsyncPipelines"]


class AsyncPipelines(AsyncBaseResource):
    """Manage pipelines in your team.

    A pipeline holds a name, a description and run metrics; its logic (blocks and connections)
    lives in configuration versions (``client.pipeline_configuration_versions``) and its runs
    in executions (``client.pipeline_executions``). Every method returns ``PipelineAsyncModel``
    objects.

    Example::

        pipeline = await client.pipelines.create(name="Echo", description="Says it back")
        version = await pipeline.create_configuration_version(configuration=config)
        execution = await version.execute(
            pipeline_input={"user_input": "Hello"}, pipeline_input_summary="greeting"
        )
        await execution.wait_for_completion(timeout=60)
        print(await execution.get_output())  # {"echoed_message": "Hello"}
        await client.pipelines.delete(pipeline.pipeline_id)
    """

    @_io_async.paginated
    async def list(
        self,
        *,
        pipeline_ids: Optional[List[str]] = None,
        name_like: Optional[str] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: Optional[str] = None,
        order_direction: str = "asc",
        **options: Unpack[RequestOptions],
    ) -> AsyncPage[PipelineAsyncModel]:
        """List the team's pipelines with pagination.

        Args:
            pipeline_ids: Only these pipelines.
            name_like: Only pipelines whose name contains this text (any case).
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-1000). Defaults to 10.
            order_by: "name", "createdAt" or "updatedAt" (snake_case works too); the server
                sorts by "createdAt" when not given.
            order_direction: Sort direction ("asc" or "desc"). Defaults to "asc".

        Returns:
            A page: ``["items"]`` holds ``PipelineAsyncModel`` objects, ``["pagination"]`` the
            paging info; ``auto_paging_iter()`` walks every pipeline.

        Wire: ``GET /pipelines``
        """
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            pipelineIds=pipeline_ids,
            nameLike=name_like or None,
        )
        return await self._get_page("/pipelines", PipelineAsyncModel, query=query, options=options)

    async def retrieve(
        self, pipeline_id: str, **options: Unpack[RequestOptions]
    ) -> PipelineAsyncModel:
        """Retrieve a specific pipeline by ID, with its run metrics.

        Args:
            pipeline_id: The ID of the pipeline to retrieve.

        Raises:
            NotFoundError: If the pipeline doesn't exist (or belongs to another team).

        Wire: ``GET /pipelines/{pipelineId}``
        """
        return await self._get(_pipeline_path(pipeline_id), PipelineAsyncModel, options=options)

    async def create(
        self, *, name: str, description: Optional[str] = None, **kwargs: Any
    ) -> PipelineAsyncModel:
        """Create a pipeline in the client's team.

        Args:
            name: Name, unique within the team (1-255 characters).
            description: Free text (up to 1000 characters).
            **kwargs: Other fields, sent with camelCase keys; the request options
                (``timeout``, ``extra_headers``, ...) are taken out first.

        Raises:
            ValidationError: If the request data is invalid.
            ConflictError: If a pipeline with the same name already exists in the team.

        Wire: ``POST /pipelines``
        """
        options, kwargs = split_options(kwargs)
        fields = {"teamId": self._client.team_id, "name": name, "description": description}
        body = make_body(fields, kwargs)
        return await self._post("/pipelines", PipelineAsyncModel, body=body, options=options)

    async def update(
        self,
        pipeline_id: str,
        *,
        name: Optional[str] = None,
        description: Optional[str] = None,
        **kwargs: Any,
    ) -> PipelineAsyncModel:
        """Update a pipeline; only the given fields change.

        Args:
            pipeline_id: The ID of the pipeline to update.
            name: New name.
            description: New description.
            **kwargs: Other fields, sent with camelCase keys; the request options
                (``timeout``, ``extra_headers``, ...) are taken out first.

        Raises:
            NotFoundError: If the pipeline doesn't exist.
            ValidationError: If the request data is invalid.
            ConflictError: If a pipeline with the same name already exists in the team.

        Wire: ``PATCH /pipelines/{pipelineId}``
        """
        options, kwargs = split_options(kwargs)
        body = make_body({"name": name, "description": description}, kwargs)
        path = _pipeline_path(pipeline_id)
        return await self._patch(path, PipelineAsyncModel, body=body, options=options)

    async def delete(self, pipeline_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a pipeline with its configuration versions and executions.

        Args:
            pipeline_id: The ID of the pipeline to delete.

        Raises:
            NotFoundError: If the pipeline doesn't exist.

        Wire: ``DELETE /pipelines/{pipelineId}``
        """
        await self._delete(_pipeline_path(pipeline_id), options=options)


def _pipeline_path(pipeline_id: str) -> str:
    return f"/pipelines/{path_param(pipeline_id, 'pipeline_id')}"
