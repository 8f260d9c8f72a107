from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from moderately.api.deps import (
    PrincipalDep,
    SessionDep,
    SettingsDep,
    TeamIdsQuery,
    paging,
)
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.base import DeleteResult, Paginated
from moderately.schemas.entities import AgentCreate, AgentPublic, AgentSort, AgentUpdate
from moderately.services import agents
from moderately.services.paging import PageParams

router = APIRouter(prefix="/agents", tags=["Agents"], route_class=BoundedJSONRoute)

AgentId = Annotated[str, Path(alias="agentId")]


@router.get("", response_model=Paginated[AgentPublic], responses=error_responses(400, 403))
async def list_agents(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Depends(paging(AgentSort))],
    filters: Annotated[agents.AgentFilters, Query()],
) -> Any:
    return await agents.list_agents(session, principal=principal, params=params, filters=filters)


@router.post(
    "", status_code=201, response_model=AgentPublic, responses=error_responses(400, 403, 409)
)
async def create_agent(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    body: AgentCreate,
    team_ids: TeamIdsQuery = None,
) -> Any:
    """Also makes the agent's configuration version 1 (current, defaults), so executions by
    agent id work at once."""
    return await agents.create_agent(
        session,
        principal=principal,
        settings=settings,
        name=body.name,
        description=body.description,
        team_id=body.team_id,
        request_team_ids=team_ids or (),
    )


@router.get("/{agentId}", response_model=AgentPublic, responses=error_responses(400, 403, 404))
async def retrieve_agent(session: SessionDep, principal: PrincipalDep, agent_id: AgentId) -> Any:
    return await agents.get_agent(session, principal=principal, agent_id=agent_id)


@router.patch(
    "/{agentId}", response_model=AgentPublic, responses=error_responses(400, 403, 404, 409)
)
async def update_agent(
    session: SessionDep, principal: PrincipalDep, agent_id: AgentId, body: AgentUpdate
) -> Any:
    changes = body.changes(not_nullable=("name",))
    return await agents.update_agent(
        session, principal=principal, agent_id=agent_id, changes=changes
    )


@router.delete("/{agentId}", response_model=DeleteResult, responses=error_responses(400, 403, 404))
async def delete_agent(session: SessionDep, principal: PrincipalDep, agent_id: AgentId) -> Any:
    await agents.delete_agent(session, principal=principal, agent_id=agent_id)
    return DeleteResult(message="agent deleted")
