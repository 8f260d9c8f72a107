"""Agents resource."""

from typing import Any, Optional

from typing_extensions import Unpack

from ... import _io_async
from ..._base_client import RequestOptions, list_query, make_body, path_param, split_options
from ...types.agent import Agent
from .._pagination import AsyncPage
from .._resource import AsyncBaseResource

__all__ = ["AsyncAgents"]


class AsyncAgents(AsyncBaseResource):
    """Manage AI agents in your team.

    Example::

        agent = await client.agents.create(name="Customer Support Agent", description="Helps")
        agent = await client.agents.update(agent.agent_id, name="Support Agent")
        print(agent["agentId"], agent.success_rate)
        await client.agents.delete(agent.agent_id)
    """

    @_io_async.paginated
    async def list(
        self,
        *,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "created_at",
        order_direction: str = "desc",
        **options: Unpack[RequestOptions],
    ) -> AsyncPage[Agent]:
        """List the agents of the client's team with pagination.

        Args:
            page: Page number (1-based). Defaults to 1.
            page_size: Number of items per page (1-1000). Defaults to 10.
            order_by: Field to sort by ("created_at", "updated_at" or "name"). Defaults to
                "created_at".
            order_direction: Sort direction ("asc" or "desc"). Defaults to "desc".

        Wire: ``GET /agents``
        """
        query = list_query(
            page=page, page_size=page_size, order_by=order_by, order_direction=order_direction
        )
        return await self._get_page("/agents", Agent, query=query, options=options)

    async def retrieve(self, agent_id: str, **options: Unpack[RequestOptions]) -> Agent:
        """Retrieve a specific agent by ID.

        Args:
            agent_id: The ID of the agent to retrieve.

        Raises:
            NotFoundError: If the agent doesn't exist (or belongs to another team).

        Wire: ``GET /agents/{agentId}``
        """
        return await self._get(_agent_path(agent_id), Agent, options=options)

    async def create(self, *, name: str, description: Optional[str] = None, **kwargs: Any) -> Agent:
        """Create a new agent in the client's team.

        Args:
            name: The agent name, unique within the team (1-255 characters).
            description: Optional description (up to 1000 characters).
            **kwargs: Additional agent properties, sent with camelCase keys; ``team_id=``
                creates the agent in that team instead of the client's. The request options
                (``timeout``, ``extra_headers``, ...) are taken out first.

        Raises:
            ValidationError: If the request data is invalid.
            ConflictError: If the team already has an agent with this name.

        Wire: ``POST /agents``
        """
        options, kwargs = split_options(kwargs)
        fields = {"name": name, "teamId": self._client.team_id, "description": description}
        return await self._post("/agents", Agent, body=make_body(fields, kwargs), options=options)

    async def update(
        self,
        agent_id: str,
        *,
        name: Optional[str] = None,
        description: Optional[str] = None,
        **kwargs: Any,
    ) -> Agent:
        """Update an existing agent; only the given fields change.

        Args:
            agent_id: The ID of the agent to update.
            name: New agent name.
            description: New description.
            **kwargs: Additional properties to update, sent with camelCase keys; the request
                options (``timeout``, ``extra_headers``, ...) are taken out first.

        Raises:
            NotFoundError: If the agent doesn't exist.
            ValidationError: If the request data is invalid.

        Wire: ``PATCH /agents/{agentId}``
        """
        options, kwargs = split_options(kwargs)
        body = make_body({"name": name, "description": description}, kwargs)
        return await self._patch(_agent_path(agent_id), Agent, body=body, options=options)

    async def delete(self, agent_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete an agent.

        Args:
            agent_id: The ID of the agent to delete.

        Raises:
            NotFoundError: If the agent doesn't exist.

        Wire: ``DELETE /agents/{agentId}``
        """
        await self._delete(_agent_path(agent_id), options=options)


def _agent_path(agent_id: str) -> str:
    return f"/agents/{path_param(agent_id, 'agent_id')}"
