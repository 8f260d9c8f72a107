from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from moderately.api.deps import PrincipalDep, SessionDep, SettingsDep
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.agents import AgentVersionCreate, AgentVersionPublic, AgentVersionUpdate
from moderately.services import agent_configurations as configurations

router = APIRouter(
    prefix="/agent-configuration-versions",
    tags=["Agent configuration versions"],
    route_class=BoundedJSONRoute,
)

VersionId = Annotated[str, Path(alias="agentConfigurationVersionId")]


@router.post(
    "",
    status_code=201,
    response_model=AgentVersionPublic,
    responses=error_responses(400, 403, 404, 409),
)
async def create_agent_configuration_version(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, body: AgentVersionCreate
) -> Any:
    """Every field is required; 409 when the agent has that versionNumber; `isCurrent: true`
    demotes the agent's current version."""
    fields = body.model_dump(exclude={"agent_id", "version_number", "is_current"})
    return await configurations.create_version(
        session,
        principal=principal,
        settings=settings,
        agent_id=body.agent_id,
        version_number=body.version_number,
        is_current=body.is_current,
        fields=fields,
    )


@router.get("", response_model=list[AgentVersionPublic], responses=error_responses(400, 403))
async def list_agent_configuration_versions(
    session: SessionDep,
    principal: PrincipalDep,
    filters: Annotated[configurations.AgentVersionFilters, Query()],
) -> Any:
    """A plain array (not paginated), ordered by agent and version number."""
    return await configurations.list_versions(session, principal=principal, filters=filters)


@router.get(
    "/{agentConfigurationVersionId}",
    response_model=AgentVersionPublic,
    responses=error_responses(400, 403, 404),
)
async def retrieve_agent_configuration_version(
    session: SessionDep, principal: PrincipalDep, version_id: VersionId
) -> Any:
    return await configurations.get_version(session, principal=principal, version_id=version_id)


@router.patch(
    "/{agentConfigurationVersionId}",
    response_model=AgentVersionPublic,
    responses=error_responses(400, 403, 404),
)
async def update_agent_configuration_version(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    version_id: VersionId,
    body: AgentVersionUpdate,
) -> Any:
    """Anything but agentId and versionNumber; `isCurrent: true` demotes the other current
    version, null leaves it unchanged."""
    changes = body.changes(
        not_nullable=(
            "instructions",
            "input_schema",
            "output_schema",
            "is_current",
            "llm_config",
            "tool_config",
            "execution_config",
        )
    )
    return await configurations.update_version(
        session, principal=principal, settings=settings, version_id=version_id, changes=changes
    )
