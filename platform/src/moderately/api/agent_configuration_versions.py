from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import AfterValidator

from moderately.api.deps import MultiValue, PrincipalDep, SessionDep, SettingsDep, TeamIdsQuery
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.errors import Invalid
from moderately.schemas.agents import AgentVersionCreate, AgentVersionPublic, AgentVersionUpdate
from moderately.services import agent_configurations as configurations
from moderately.services.paging import split_values

router = APIRouter(
    prefix="/agent-configuration-versions",
    tags=["Agent configuration versions"],
    route_class=BoundedJSONRoute,
)

VersionId = Annotated[str, Path(alias="agentConfigurationVersionId")]
MAX_VERSION_NUMBER = 2**31 - 1


def _version_numbers(values: list[str] | None) -> list[int]:
    numbers = []
    for value in split_values(values):
        if not value.isdigit() or not 1 <= int(value) <= MAX_VERSION_NUMBER:
            raise ValueError(f"versionNumbers must be positive integers, not {value[:20]!r}")
        numbers.append(int(value))
    return numbers


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise Invalid("isCurrent must be true or false", field="isCurrent", value=value[:20])
    return lowered == "true"


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
    team_ids: TeamIdsQuery = None,
    agent_ids: Annotated[MultiValue, Query(alias="agentIds")] = None,
    version_ids: Annotated[MultiValue, Query(alias="agentConfigurationVersionIds")] = None,
    version_numbers: Annotated[
        list[str] | None, AfterValidator(_version_numbers), Query(alias="versionNumbers")
    ] = None,
    is_current: Annotated[str | None, Query(alias="isCurrent", description="true or false")] = None,
) -> Any:
    """A plain array (not paginated), ordered by agent and version number."""
    return await configurations.list_versions(
        session,
        principal=principal,
        team_ids=team_ids or (),
        agent_ids=agent_ids or (),
        version_ids=version_ids or (),
        version_numbers=version_numbers or (),  # type: ignore[arg-type]
        is_current=_flag(is_current),
    )


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
