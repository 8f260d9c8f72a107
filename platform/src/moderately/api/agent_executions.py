from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query

from moderately.api.deps import JobsDep, PrincipalDep, SessionDep, paging
from moderately.api.errors import error_responses
from moderately.api.extensions import AGENT_EXECUTION_CONTROL, marked
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.agents import (
    AgentExecutionCreate,
    AgentExecutionPublic,
    AgentExecutionUpdate,
    LiveTail,
    MemoryStatePublic,
    MemoryStateSort,
)
from moderately.schemas.base import DeleteResult, Paginated
from moderately.schemas.entities import Direction
from moderately.schemas.pipelines import CancelRequest, ExecutionSort
from moderately.services import agent_executions as executions
from moderately.services.paging import PageParams

router = APIRouter(
    prefix="/agent-executions", tags=["Agent executions"], route_class=BoundedJSONRoute
)

ExecutionId = Annotated[str, Path(alias="agentExecutionId")]
MAX_VERSION = 2**31 - 1


@router.post(
    "",
    status_code=201,
    response_model=AgentExecutionPublic,
    responses=error_responses(400, 403, 404),
)
async def create_agent_execution(
    session: SessionDep, principal: PrincipalDep, jobs: JobsDep, body: AgentExecutionCreate
) -> Any:
    """The spec's body, or 0.2.7's `{agent_id, input_data}` (the agent's current configuration
    version). 400 `invalid_agent_input` when agentInput misses the input schema."""
    request = executions.NewExecution(
        version_id=body.agent_configuration_version_id,
        agent_id=body.agent_id,
        agent_input=body.agent_input,
        agent_input_summary=body.agent_input_summary,
        agent_input_schema=body.agent_input_schema,
        agent_output_schema=body.agent_output_schema,
        max_actions=body.max_actions,
        planning_interval=body.planning_interval,
    )
    return await executions.create_execution(
        session, principal=principal, jobs=jobs, request=request
    )


@router.get("", response_model=Paginated[AgentExecutionPublic], responses=error_responses(400, 403))
async def list_agent_executions(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[
        PageParams,
        Depends(
            paging(
                ExecutionSort,
                max_page_size=100,
                default_page_size=20,
                default_direction=Direction.desc,
            )
        ),
    ],
    filters: Annotated[executions.AgentExecutionFilters, Query()],
) -> Any:
    """Newest first unless orderBy/orderDirection say otherwise."""
    return await executions.list_executions(
        session, principal=principal, params=params, filters=filters
    )


@router.get(
    "/{agentExecutionId}",
    response_model=AgentExecutionPublic,
    responses=error_responses(400, 403, 404),
)
async def retrieve_agent_execution(
    session: SessionDep, principal: PrincipalDep, execution_id: ExecutionId
) -> Any:
    return await executions.get_execution(session, principal=principal, execution_id=execution_id)


@router.patch(
    "/{agentExecutionId}",
    response_model=AgentExecutionPublic,
    responses=error_responses(400, 403, 404, 409),
    openapi_extra=marked(AGENT_EXECUTION_CONTROL),
)
async def update_agent_execution(
    session: SessionDep,
    principal: PrincipalDep,
    jobs: JobsDep,
    execution_id: ExecutionId,
    body: AgentExecutionUpdate,
) -> Any:
    """`paused` pauses a running execution, `running` resumes a paused one, `cancelled`
    cancels (409 once finished); other moves are 400."""
    return await executions.update_execution(
        session, principal=principal, jobs=jobs, execution_id=execution_id, status=body.status
    )


async def _cancel(
    session: SessionDep,
    principal: PrincipalDep,
    execution_id: ExecutionId,
    body: Annotated[CancelRequest | None, Body()] = None,
) -> Any:
    reason = body.reason if body is not None else None
    return await executions.cancel_execution(
        session, principal=principal, execution_id=execution_id, reason=reason
    )


_CANCEL_DOC = "Pending, running or paused → cancelled at once; a finished execution → 409."
router.add_api_route(
    "/{agentExecutionId}/cancel",
    _cancel,
    methods=["POST"],
    name="cancel_agent_execution",
    response_model=AgentExecutionPublic,
    responses=error_responses(400, 403, 404, 409),
    openapi_extra=marked(AGENT_EXECUTION_CONTROL),
    description=_CANCEL_DOC,
)
router.add_api_route(
    "/{agentExecutionId}/cancel",
    _cancel,
    methods=["PATCH"],
    name="cancel_agent_execution_patch",
    response_model=AgentExecutionPublic,
    responses=error_responses(400, 403, 404, 409),
    openapi_extra=marked(AGENT_EXECUTION_CONTROL),
    description=_CANCEL_DOC + " (the method 0.2.7's async client uses)",
)


@router.delete(
    "/{agentExecutionId}",
    response_model=DeleteResult,
    responses=error_responses(400, 403, 404),
    openapi_extra=marked(AGENT_EXECUTION_CONTROL),
)
async def delete_agent_execution(
    session: SessionDep, principal: PrincipalDep, execution_id: ExecutionId
) -> Any:
    """The execution and its memory states; a running one stops."""
    await executions.delete_execution(session, principal=principal, execution_id=execution_id)
    return DeleteResult(message="agent execution deleted")


@router.get(
    "/{agentExecutionId}/memory-states",
    response_model=Paginated[MemoryStatePublic],
    responses=error_responses(400, 403, 404),
)
async def list_agent_execution_memory_states(
    session: SessionDep,
    principal: PrincipalDep,
    execution_id: ExecutionId,
    params: Annotated[PageParams, Depends(paging(MemoryStateSort))],
    version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
    latest: bool | None = None,
) -> Any:
    """Ordered by version unless orderBy says otherwise; `version` picks one, `latest=true`
    the newest."""
    return await executions.list_memory_states(
        session,
        principal=principal,
        execution_id=execution_id,
        params=params,
        version=version,
        latest=latest,
    )


@router.get(
    "/{agentExecutionId}/memory-states/{version}",
    response_model=MemoryStatePublic,
    responses=error_responses(400, 403, 404),
)
async def retrieve_agent_execution_memory_state(
    session: SessionDep,
    principal: PrincipalDep,
    execution_id: ExecutionId,
    version: Annotated[int, Path(ge=1, le=MAX_VERSION)],
) -> Any:
    return await executions.get_memory_state(
        session, principal=principal, execution_id=execution_id, version=version
    )


@router.get(
    "/{agentExecutionId}/live-tail",
    response_model=LiveTail,
    responses=error_responses(400, 403, 404),
)
async def get_agent_execution_live_tail(
    session: SessionDep, principal: PrincipalDep, execution_id: ExecutionId
) -> Any:
    """The execution's summary, its latest memory state and that state's steps."""
    return await executions.live_tail(session, principal=principal, execution_id=execution_id)
