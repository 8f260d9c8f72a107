from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query

from moderately.api.deps import (
    JobsDep,
    PrincipalDep,
    SessionDep,
    StoreDep,
    paging,
)
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.base import Paginated
from moderately.schemas.pipelines import (
    CancelRequest,
    ExecutionCreate,
    ExecutionOutput,
    ExecutionPublic,
    ExecutionSort,
    ExecutionUpdate,
)
from moderately.services import pipeline_executions as executions
from moderately.services.paging import PageParams

router = APIRouter(
    prefix="/pipeline-executions", tags=["Pipeline executions"], route_class=BoundedJSONRoute
)

ExecutionId = Annotated[str, Path(alias="pipelineExecutionId")]


@router.post(
    "", status_code=201, response_model=ExecutionPublic, responses=error_responses(400, 403, 404)
)
async def create_pipeline_execution(
    session: SessionDep, principal: PrincipalDep, jobs: JobsDep, body: ExecutionCreate
) -> Any:
    """400 `invalid_pipeline_configuration` / `invalid_pipeline_input` (details say why);
    honours Idempotency-Key (a retried create makes no second execution)."""
    return await executions.create_execution(
        session,
        principal=principal,
        jobs=jobs,
        version_id=body.pipeline_configuration_version_id,
        pipeline_input=body.pipeline_input,
        pipeline_input_summary=body.pipeline_input_summary,
        current_step=body.current_step,
        total_steps=body.total_steps,
    )


@router.get("", response_model=Paginated[ExecutionPublic], responses=error_responses(400, 403))
async def list_pipeline_executions(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Depends(paging(ExecutionSort))],
    filters: Annotated[executions.PipelineExecutionFilters, Query()],
) -> Any:
    return await executions.list_executions(
        session, principal=principal, params=params, filters=filters
    )


@router.get(
    "/{pipelineExecutionId}",
    response_model=ExecutionPublic,
    responses=error_responses(400, 403, 404),
)
async def retrieve_pipeline_execution(
    session: SessionDep, principal: PrincipalDep, execution_id: ExecutionId
) -> Any:
    return await executions.get_execution(session, principal=principal, execution_id=execution_id)


@router.patch(
    "/{pipelineExecutionId}",
    response_model=ExecutionPublic,
    responses=error_responses(400, 403, 404, 409),
)
async def update_pipeline_execution(
    session: SessionDep,
    principal: PrincipalDep,
    jobs: JobsDep,
    execution_id: ExecutionId,
    body: ExecutionUpdate,
) -> Any:
    """Worker-style updates; status changes follow the allowed transitions (400 otherwise)."""
    changes = body.changes(not_nullable=("status", "progress_data", "current_step", "total_steps"))
    return await executions.update_execution(
        session, principal=principal, jobs=jobs, execution_id=execution_id, changes=changes
    )


@router.post(
    "/{pipelineExecutionId}/cancel",
    response_model=ExecutionPublic,
    responses=error_responses(400, 403, 404, 409),
)
async def cancel_pipeline_execution(
    session: SessionDep,
    principal: PrincipalDep,
    execution_id: ExecutionId,
    body: Annotated[CancelRequest | None, Body()] = None,
) -> Any:
    """Pending/running/paused → cancelled at once; a finished execution → 409."""
    reason = body.reason if body is not None else None
    return await executions.cancel_execution(
        session, principal=principal, execution_id=execution_id, reason=reason
    )


@router.get(
    "/{pipelineExecutionId}/output",
    response_model=ExecutionOutput,
    responses=error_responses(400, 403, 404),
)
async def get_pipeline_execution_output(
    session: SessionDep, principal: PrincipalDep, storage: StoreDep, execution_id: ExecutionId
) -> Any:
    """inline: `{type, data, summary}`; stored: `{type: "s3", downloadUrl, expiresAt, metadata:
    {fileSizeBytes, compressionType: "gzip", fileType: "json", outputSummary}}`; 404 until
    the execution has completed with output."""
    return await executions.get_output(
        session, principal=principal, storage=storage, execution_id=execution_id
    )
