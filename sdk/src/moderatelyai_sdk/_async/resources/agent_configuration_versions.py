"""Agent configuration versions resource: the numbered behaviours of an agent."""

from typing import Any, Dict, List, Optional

from typing_extensions import Unpack

from ..._base_client import (
    RequestOptions,
    lookup_options,
    make_body,
    path_param,
    request_id_of,
    split_options,
)
from ...types.agent import AgentConfigurationVersion
from .._resource import AsyncBaseResource

__all__ = ["AsyncAgentConfigurationVersions"]

_PATH = "/agent-configuration-versions"
# A schema that accepts any object: what a version without schemas validates against.
_ANY_OBJECT: Dict[str, Any] = {"type": "object"}


class AsyncAgentConfigurationVersions(AsyncBaseResource):
    """Manage agent configuration versions: instructions, input and output schemas, models,
    tools and run limits of an agent. An execution runs one version; ``agent_executions.create``
    with only an ``agent_id`` runs the agent's current one.

    Example::

        version = await client.agent_configuration_versions.create(
            agent_id=agent.agent_id,
            instructions="Answer the question from the team's documents.",
            output_schema={"type": "object", "properties": {"answer": {"type": "string"}}},
            tool_config=[{"type": "ResourceSearchTool"}],
            execution_config={"max_actions": 5},
        )
        versions = await client.agent_configuration_versions.list(agent_ids=[agent.agent_id])
    """

    async def list(
        self,
        *,
        agent_ids: Optional[List[str]] = None,
        agent_configuration_version_ids: Optional[List[str]] = None,
        version_numbers: Optional[List[int]] = None,
        is_current: Optional[bool] = None,
        **options: Unpack[RequestOptions],
    ) -> List[AgentConfigurationVersion]:
        """List the configuration versions of the team's agents (the wire returns a plain array,
        not pages).

        Args:
            agent_ids: Only versions of these agents.
            agent_configuration_version_ids: Only these versions.
            version_numbers: Only versions with these numbers.
            is_current: ``True`` for only each agent's current version, ``False`` for only the
                others.

        Wire: ``GET /agent-configuration-versions``
        """
        query = {
            "agentIds": agent_ids,
            "agentConfigurationVersionIds": agent_configuration_version_ids,
            "versionNumbers": version_numbers,
            "isCurrent": is_current,
        }
        items, response = await self._client._call("GET", _PATH, query=query, options=options)
        return self._client._cast_list(AgentConfigurationVersion, items, request_id_of(response))

    async def retrieve(
        self, agent_configuration_version_id: str, **options: Unpack[RequestOptions]
    ) -> AgentConfigurationVersion:
        """Retrieve a configuration version by ID.

        Raises:
            NotFoundError: If it doesn't exist (or belongs to another team).

        Wire: ``GET /agent-configuration-versions/{agentConfigurationVersionId}``
        """
        path = _version_path(agent_configuration_version_id)
        return await self._get(path, AgentConfigurationVersion, options=options)

    async def create(
        self,
        *,
        agent_id: str,
        instructions: str,
        input_schema: Optional[Dict[str, Any]] = None,
        output_schema: Optional[Dict[str, Any]] = None,
        version_number: Optional[int] = None,
        is_current: bool = True,
        system_prompt: Optional[str] = None,
        llm_config: Optional[Dict[str, Any]] = None,
        tool_config: Optional[List[Dict[str, Any]]] = None,
        execution_config: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> AgentConfigurationVersion:
        """Create a configuration version of an agent.

        Args:
            agent_id: The agent the version belongs to.
            instructions: What the agent is asked to do (non-empty).
            input_schema: JSON Schema of the executions' input; defaults to any object.
            output_schema: JSON Schema of the final answer; defaults to any object.
            version_number: The version's number, unique per agent; defaults to one more than
                the agent's highest (one extra request).
            is_current: Make it the version that runs by default (the agent's other versions
                stop being current). Defaults to ``True``.
            system_prompt: Text put before the instructions.
            llm_config: Models per role (``thought_llm``, ``fact_extraction_llm``,
                ``planner_llm``: ``{"provider", "model_tier", "model"?, ...}``); ``{}`` uses
                the server's defaults.
            tool_config: Tools offered to the agent: ``[{"type": "<ToolName>", "config": {}}]``.
            execution_config: ``max_actions``, ``planning_interval``, ``feedback_rounds``,
                ``timeout_minutes``; the server fills in what is left out.
            **kwargs: Other fields, sent with camelCase keys; the request options (``timeout``,
                ``extra_headers``, ...) are taken out first and apply to both requests
                (``extra_body`` and ``idempotency_key`` only to the POST).

        Raises:
            ValidationError: If a field is invalid (empty instructions, unknown tool, ...).
            NotFoundError: If the agent doesn't exist.
            ConflictError: If the agent already has a version with this number.

        Wire: ``GET /agent-configuration-versions?agentIds=...`` (only without
        ``version_number``), then ``POST /agent-configuration-versions``
        """
        options, kwargs = split_options(kwargs)
        if version_number is None:
            existing = await self.list(agent_ids=[agent_id], **lookup_options(options))
            version_number = 1 + max((v.version_number or 0 for v in existing), default=0)
        fields = {
            "agentId": agent_id,
            "instructions": instructions,
            "inputSchema": input_schema if input_schema is not None else _ANY_OBJECT,
            "outputSchema": output_schema if output_schema is not None else _ANY_OBJECT,
            "versionNumber": version_number,
            "isCurrent": is_current,
            "llmConfig": llm_config if llm_config is not None else {},
            "toolConfig": tool_config if tool_config is not None else [],
            "executionConfig": execution_config if execution_config is not None else {},
        }
        body = make_body(fields, kwargs)
        body.setdefault("systemPrompt", system_prompt)  # required on the wire, nullable
        return await self._post(_PATH, AgentConfigurationVersion, body=body, options=options)

    async def update(
        self,
        agent_configuration_version_id: str,
        *,
        instructions: Optional[str] = None,
        input_schema: Optional[Dict[str, Any]] = None,
        output_schema: Optional[Dict[str, Any]] = None,
        is_current: Optional[bool] = None,
        system_prompt: Optional[str] = None,
        llm_config: Optional[Dict[str, Any]] = None,
        tool_config: Optional[List[Dict[str, Any]]] = None,
        execution_config: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> AgentConfigurationVersion:
        """Update a configuration version; only the arguments that are not ``None`` are sent
        (the agent and the version number never change). ``**kwargs`` are other fields, sent
        with camelCase keys, once the request options (``timeout``, ...) are taken out.

        Raises:
            NotFoundError: If the version doesn't exist.
            ValidationError: If a field is invalid.

        Wire: ``PATCH /agent-configuration-versions/{agentConfigurationVersionId}``
        """
        options, kwargs = split_options(kwargs)
        fields = {
            "instructions": instructions,
            "inputSchema": input_schema,
            "outputSchema": output_schema,
            "isCurrent": is_current,
            "systemPrompt": system_prompt,
            "llmConfig": llm_config,
            "toolConfig": tool_config,
            "executionConfig": execution_config,
        }
        path = _version_path(agent_configuration_version_id)
        body = make_body(fields, kwargs)
        return await self._patch(path, AgentConfigurationVersion, body=body, options=options)


def _version_path(version_id: str) -> str:
    return f"{_PATH}/{path_param(version_id, 'agent_configuration_version_id')}"
