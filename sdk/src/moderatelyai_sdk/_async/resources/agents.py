"""Agents resource."""

from typing import Any, Optional

from ..._base_client import list_query, make_body, path_param
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

    async def list(
        self,
        *,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "created_at",
        order_direction: str = "desc",
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
        return await self._get_page("/agents", Agent, query=query)

    async def retrieve(self, agent_id: str) -> Agent:
        """Retrieve a specific agent by ID.

        Args:
            agent_id: The ID of the agent to retrieve.

        Raises:
            NotFoundError: If the agent doesn't exist (or belongs to another team).

        Wire: ``GET /agents/{agentId}``
        """
        return await self._get(f"/agents/{path_param(agent_id, 'agent_id')}", Agent)

    async def create(self, *, name: str, description: Optional[str] = None, **kwargs: Any) -> Agent:
        """Create a new agent in the client's team.

        Args:
            name: The agent name, unique within the team (1-255 characters).
            description: Optional description (up to 1000 characters).
            **kwargs: Additional agent properties, sent with camelCase keys; ``team_id=``
                creates the agent in that team instead of the client's.

        Raises:
            ValidationError: If the request data is invalid.
            ConflictError: If the team already has an agent with this name.

        Wire: ``POST /agents``
        """
        fields = {"name": name, "teamId": self._client.team_id, "description": description}
        return await self._post("/agents", Agent, body=make_body(fields, kwargs))

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
            **kwargs: Additional properties to update, sent with camelCase keys.

        Raises:
            NotFoundError: If the agent doesn't exist.
            ValidationError: If the request data is invalid.

        Wire: ``PATCH /agents/{agentId}``
        """
        body = make_body({"name": name, "description": description}, kwargs)
        return await self._patch(f"/agents/{path_param(agent_id, 'agent_id')}", Agent, body=body)

    async def delete(self, agent_id: str) -> None:
        """Delete an agent.

        Args:
            agent_id: The ID of the agent to delete.

        Raises:
            NotFoundError: If the agent doesn't exist.

        Wire: ``DELETE /agents/{agentId}``
        """
        await self._delete(f"/agents/{path_param(agent_id, 'agent_id')}")
