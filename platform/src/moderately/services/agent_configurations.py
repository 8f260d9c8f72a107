"""Agent configuration versions.

* Every field is required at create; `inputSchema`/`outputSchema` must be Draft 7 schemas the
  engine can apply (engine/jsonschemas.py), `llmConfig` roles name a known provider and tier,
  `toolConfig` types are among the 29 tool names, `executionConfig` is bounded (timeout up to
  MODERATELY_AGENT_MAX_TIMEOUT_SECONDS). A broken rule is a 400 naming the field.
* `versionNumber` is unique per agent (409). `isCurrent: true` demotes the agent's other current
  version in the same transaction (a partial unique index backs "at most one"); the agent's row
  is locked meanwhile, so two promotions take turns.
* PATCH changes anything but `agentId` and `versionNumber`; there is no delete.
* Every new agent gets version 1, current, with the defaults below, so 0.2.7's executions by
  agent id work at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.config import Settings
from moderately.db.models import Agent, AgentConfigurationVersion
from moderately.engine.jsonschemas import schema_problems
from moderately.errors import Conflict, Invalid
from moderately.schemas.agents import EXECUTION_DEFAULTS, ExecutionConfig, LlmConfig, ToolEntry
from moderately.services.auth import Principal
from moderately.services.filters import ListFilters, Values, equal, filtered, one_of
from moderately.services.paging import split_values
from moderately.services.scope import get_scoped

Version = AgentConfigurationVersion
M = TypeVar("M", bound=BaseModel)
INVALID = "invalid_agent_configuration"
DEFAULT_INSTRUCTIONS = (
    "You are a helpful assistant. Work out the task from its input, use the tools when they "
    "help, and give a final answer that matches the output schema."
)
# Tools that need nothing beyond the team's own resources: no outside network, no extra models.
DEFAULT_TOOLS = (
    "GetDateTool",
    "ResourceListTool",
    "ResourceStructureTool",
    "ResourceSampleTool",
    "ResourceReadLinesTool",
    "ResourceFindLinesTool",
    "RegexSearchTool",
    "ResourceSectionTool",
)


def max_timeout_minutes(settings: Settings) -> int:
    return max(1, int(settings.agent_max_timeout_seconds // 60))


def default_execution_config(settings: Settings) -> dict[str, Any]:
    config = dict(EXECUTION_DEFAULTS)
    config["timeout_minutes"] = min(config["timeout_minutes"], max_timeout_minutes(settings))
    return config


def check_schema(schema: Any, field: str) -> Any:
    """A Draft 7 schema the engine can apply, or 400 naming what is wrong with it."""
    problems = schema_problems(schema)
    if problems:
        raise Invalid(
            f"{field} is not a usable Draft 7 JSON Schema: {problems[0]}",
            details=[{"field": field, "message": problem} for problem in problems],
            code=INVALID,
        )
    return schema


def _execution_config(config: ExecutionConfig, settings: Settings) -> dict[str, Any]:
    ceiling = max_timeout_minutes(settings)
    if config.timeout_minutes > ceiling:
        raise Invalid(
            f"executionConfig.timeout_minutes must be at most {ceiling} "
            "(MODERATELY_AGENT_MAX_TIMEOUT_SECONDS / 60)",
            field="executionConfig.timeout_minutes",
            value=config.timeout_minutes,
            code=INVALID,
        )
    return config.model_dump()


def _llm_config(config: LlmConfig) -> dict[str, Any]:
    return config.model_dump(by_alias=True, exclude_none=True)


def _tool_config(tools: Sequence[ToolEntry]) -> list[dict[str, Any]]:
    return [tool.model_dump(exclude_none=True) for tool in tools]


def stored_fields(values: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """Checked, storable column values from validated request fields (create or PATCH)."""
    stored: dict[str, Any] = {}
    for key, value in values.items():
        if key in ("input_schema", "output_schema"):
            stored[key] = check_schema(
                value, "inputSchema" if key == "input_schema" else "outputSchema"
            )
        elif key == "llm_config":
            stored[key] = _llm_config(_as(LlmConfig, value))
        elif key == "tool_config":
            stored[key] = _tool_config([_as(ToolEntry, tool) for tool in value])
        elif key == "execution_config":
            stored[key] = _execution_config(_as(ExecutionConfig, value), settings)
        else:
            stored[key] = value
    return stored


def _as(model: type[M], value: Any) -> M:
    """`model_dump` of a request turns nested models into dicts: back to the model."""
    return value if isinstance(value, model) else model.model_validate(value)


# ---- reads ----


MAX_VERSION_NUMBER = 2**31 - 1
# Repeated keys, comma lists or both, each a version number.
VersionNumbers = Annotated[
    list[Annotated[int, Field(ge=1, le=MAX_VERSION_NUMBER)]] | None,
    BeforeValidator(split_values),
]


class AgentVersionFilters(ListFilters):
    team_column = Version.team_id
    agent_ids: Annotated[Values, Field(alias="agentIds"), one_of(Version.agent_id)] = None
    version_ids: Annotated[
        Values,
        Field(alias="agentConfigurationVersionIds"),
        one_of(Version.agent_configuration_version_id),
    ] = None
    version_numbers: Annotated[
        VersionNumbers, Field(alias="versionNumbers"), one_of(Version.version_number)
    ] = None
    is_current: Annotated[
        Literal["true", "false"] | None,
        Field(alias="isCurrent"),
        equal(Version.is_current, lambda text: text == "true"),
    ] = None


async def list_versions(
    session: AsyncSession, *, principal: Principal, filters: AgentVersionFilters
) -> list[Version]:
    """A plain array (not paged), by agent and version number."""
    stmt = filtered(select(Version), filters, principal)
    stmt = stmt.order_by(Version.agent_id, Version.version_number)
    return list((await session.scalars(stmt)).all())


async def get_version(session: AsyncSession, *, principal: Principal, version_id: str) -> Version:
    return await get_scoped(session, Version, version_id, principal)


async def current_version(session: AsyncSession, agent: Agent) -> Version | None:
    return await session.scalar(
        select(Version).where(Version.agent_id == agent.agent_id, Version.is_current.is_(True))
    )


# ---- writes ----


async def _demote_others(session: AsyncSession, agent_id: str, keep: str | None) -> None:
    stmt = update(Version).where(Version.agent_id == agent_id, Version.is_current.is_(True))
    if keep is not None:
        stmt = stmt.where(Version.agent_configuration_version_id != keep)
    await session.execute(
        stmt.values(is_current=False).execution_options(synchronize_session=False)
    )


async def add_version(
    session: AsyncSession, agent: Agent, *, version_number: int, is_current: bool, **fields: Any
) -> Version:
    """Insert a checked version for `agent` (its row locked or just made)."""
    taken = await session.scalar(
        select(Version.agent_configuration_version_id).where(
            Version.agent_id == agent.agent_id, Version.version_number == version_number
        )
    )
    if taken is not None:
        raise Conflict(f"the agent already has a configuration version {version_number}")
    if is_current:
        await _demote_others(session, agent.agent_id, None)
    version = _new_version(
        session, agent, version_number=version_number, is_current=is_current, **fields
    )
    await session.flush()
    return version


def _new_version(
    session: AsyncSession, agent: Agent, *, version_number: int, is_current: bool, **fields: Any
) -> Version:
    """A version of `agent` added to the session (unchecked: the callers check)."""
    version = Version(
        agent_id=agent.agent_id,
        team_id=agent.team_id,
        version_number=version_number,
        is_current=is_current,
        **fields,
    )
    session.add(version)
    return version


async def create_version(
    session: AsyncSession,
    *,
    principal: Principal,
    settings: Settings,
    agent_id: str,
    version_number: int,
    is_current: bool,
    fields: Mapping[str, Any],
) -> Version:
    agent = await get_scoped(session, Agent, agent_id, principal, lock=True)
    principal.require_write()
    stored = stored_fields(fields, settings)
    return await add_version(
        session, agent, version_number=version_number, is_current=is_current, **stored
    )


def add_default_version(session: AsyncSession, agent: Agent, settings: Settings) -> Version:
    """Version 1 (current, defaults) of an agent made in this transaction, added to the session
    for the agent's own flush: a new agent has no version to collide with or demote."""
    return _new_version(
        session,
        agent,
        version_number=1,
        is_current=True,
        instructions=DEFAULT_INSTRUCTIONS,
        input_schema={"type": "object"},
        output_schema={"type": "object"},
        system_prompt=None,
        llm_config={},
        tool_config=[{"type": name} for name in DEFAULT_TOOLS],
        execution_config=default_execution_config(settings),
    )


async def update_version(
    session: AsyncSession,
    *,
    principal: Principal,
    settings: Settings,
    version_id: str,
    changes: Mapping[str, Any],
) -> Version:
    version = await get_version(session, principal=principal, version_id=version_id)
    principal.require_write()
    await get_scoped(session, Agent, version.agent_id, principal, lock=True)
    values = dict(changes)
    is_current = values.pop("is_current", None)
    for key, value in stored_fields(values, settings).items():
        setattr(version, key, value)
    if is_current is True and not version.is_current:
        await _demote_others(session, version.agent_id, version.agent_configuration_version_id)
        await session.flush()
    if is_current is not None:
        version.is_current = is_current
    await session.flush()
    await session.refresh(version)
    return version
