"""Pipeline executions: create, list, read, PATCH, cancel, output.

* Create: the version in the caller's team (404), the whole validation catalogue (400
  `invalid_pipeline_configuration`, details = the report's errors), the input values (400
  `invalid_pipeline_input`, details `[{field, message, value?}]`), and every `format: file` /
  `format: dataset` input value must name a file (upload completed) / dataset of the team (400
  `invalid_pipeline_input`). The row starts `pending` (`currentStep` 0, `totalSteps` = blocks)
  and a `pipeline.execute` job is queued in the same transaction (jobs/pipeline_execute.py).
* Statuses move along the allowed transitions, through the lifecycle's compare-and-set
  (services/lifecycle.py), so the first terminal write wins.
* Cancel: pending, running and paused executions become `cancelled` at once (a running one's
  process stops within two seconds, jobs/isolation.py); a terminal one → 409
  (`X-Should-Retry: false`) as issue 5 asks (the SDK maps 400 and 409 to errors).
* Output: inline (`type: inline`) or stored gzip JSON behind a self-authenticating URL
  (`type: s3`); 404 while the execution has no output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import (
    Dataset,
    File,
    PipelineConfigurationVersion,
    PipelineExecution,
)
from moderately.engine import (
    InvalidConfiguration,
    InvalidPipelineInput,
    Plan,
    compile_pipeline,
    prepare_inputs,
)
from moderately.engine.values import dataset_ref_of, file_id_of
from moderately.errors import Invalid, NotFound
from moderately.schemas.pipelines import ExecutionStatuses
from moderately.services import pipelines
from moderately.services.auth import Principal
from moderately.services.executions import (
    cancel_reason,
    resumes,
    sort_columns,
    transition,
)
from moderately.services.filters import ListFilters, Values, equal, filtered, one_of
from moderately.services.lifecycle import PIPELINE_EXECUTIONS
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.scope import get_in_team, get_scoped
from moderately.services.transfers import Storage
from moderately.statuses import ExecutionStatus, UploadStatus
from moderately.workers.base import JobQueue

EXECUTE = "pipeline.execute"
PAYLOAD_KEY = "pipelineExecutionId"  # what the job's payload names the execution by
Execution = PipelineExecution
SORT = sort_columns(Execution)
OUTPUT_KEY = "pipeline-executions/{}/output.json.gz"
CHECKPOINT_KEY = "pipeline-executions/{}/checkpoint.json"


# ---- create ----


def _compile(configuration: Any) -> Plan:
    try:
        return compile_pipeline(configuration)
    except InvalidConfiguration as exc:
        raise Invalid(
            str(exc), details=exc.details, code="invalid_pipeline_configuration"
        ) from None


def _prepare(plan: Plan, pipeline_input: Any) -> dict[str, Any]:
    try:
        return prepare_inputs(plan, pipeline_input)
    except InvalidPipelineInput as exc:
        raise Invalid(str(exc), details=exc.details, code="invalid_pipeline_input") from None


def _references(schema: Any, value: Any, field: str) -> list[tuple[str, str, str]]:
    """(kind, id, field) of every file/dataset reference a value holds, per its input schema."""
    if not isinstance(schema, Mapping):
        return []
    found: list[tuple[str, str, str]] = []
    fmt = schema.get("format")
    if fmt in ("file", "dataset") and value is not None:
        try:
            ref = file_id_of(value) if fmt == "file" else dataset_ref_of(value, port=field)
        except Exception:
            ref = None
        if isinstance(ref, str):
            found.append((fmt, ref, field))
    items = schema.get("items")
    if isinstance(items, Mapping) and isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_references(items, item, f"{field}/{i}"))
    properties = schema.get("properties")
    if isinstance(properties, Mapping) and isinstance(value, Mapping):
        for key, sub in properties.items():
            if key in value:
                found.extend(_references(sub, value[key], f"{field}/{key}"))
    return found


async def _check_references(
    session: AsyncSession, plan: Plan, values: Mapping[str, Any], team_id: str
) -> None:
    details: list[dict[str, Any]] = []
    for index in plan.input_nodes:
        node = plan.nodes[index]
        schema = node.config.json_schema  # type: ignore[attr-defined]
        for kind, ref, field in _references(schema, values.get(node.block_id), node.block_id):
            if kind == "file":
                file = await get_in_team(session, File, ref, team_id)
                exists = file is not None and file.upload_status == UploadStatus.COMPLETED
            else:
                exists = await get_in_team(session, Dataset, ref, team_id) is not None
            if not exists:
                details.append({"field": field, "message": f"{kind} '{ref}' not found"})
    if details:
        raise Invalid(
            f"invalid pipeline input: {details[0]['message']}",
            details=details,
            code="invalid_pipeline_input",
        )


async def create_execution(
    session: AsyncSession,
    *,
    principal: Principal,
    jobs: JobQueue,
    version_id: str,
    pipeline_input: dict[str, Any],
    pipeline_input_summary: str,
    current_step: int | None = None,
    total_steps: int | None = None,
) -> Execution:
    version = await pipelines.get_version(session, principal=principal, version_id=version_id)
    principal.require_write()
    plan = _compile(version.configuration)
    values = _prepare(plan, pipeline_input)
    await _check_references(session, plan, values, version.team_id)
    execution = Execution(
        pipeline_configuration_version_id=version.pipeline_configuration_version_id,
        pipeline_id=version.pipeline_id,
        team_id=version.team_id,
        status=ExecutionStatus.PENDING,
        pipeline_input=pipeline_input,
        pipeline_input_summary=pipeline_input_summary,
        progress_data={},
        current_step=current_step if current_step is not None else 0,
        total_steps=total_steps if total_steps is not None else max(len(plan.nodes), 1),
    )
    session.add(execution)
    await session.flush()
    await _enqueue(session, jobs, execution)
    return execution


async def _enqueue(session: AsyncSession, jobs: JobQueue, execution: Execution) -> None:
    payload = {PAYLOAD_KEY: execution.pipeline_execution_id}
    await jobs.enqueue(session, EXECUTE, payload, team_id=execution.team_id)


# ---- read ----


class PipelineExecutionFilters(ListFilters):
    team_column = Execution.team_id
    pipeline_ids: Annotated[Values, Field(alias="pipelineIds"), one_of(Execution.pipeline_id)] = (
        None
    )
    version_ids: Annotated[
        Values,
        Field(alias="pipelineConfigurationVersionIds"),
        one_of(Execution.pipeline_configuration_version_id),
    ] = None
    execution_ids: Annotated[
        Values, Field(alias="pipelineExecutionIds"), one_of(Execution.pipeline_execution_id)
    ] = None
    status: Annotated[ExecutionStatus | None, equal(Execution.status)] = None
    statuses: Annotated[
        ExecutionStatuses, Field(description="any of these statuses"), one_of(Execution.status)
    ] = None


async def list_executions(
    session: AsyncSession,
    *,
    principal: Principal,
    params: PageParams,
    filters: PipelineExecutionFilters,
) -> Page[Execution]:
    stmt = filtered(select(Execution), filters, principal)
    return await paginate(
        session, stmt, params=params, sort_columns=SORT, id_column=Execution.pipeline_execution_id
    )


async def get_execution(
    session: AsyncSession, *, principal: Principal, execution_id: str
) -> Execution:
    return await get_scoped(session, Execution, execution_id, principal)


async def version_configuration(session: AsyncSession, execution: Execution) -> dict[str, Any]:
    version = await get_in_team(
        session,
        PipelineConfigurationVersion,
        execution.pipeline_configuration_version_id,
        execution.team_id,
    )
    if version is None:
        raise NotFound("pipeline configuration version")
    return version.configuration


# ---- writes ----


async def update_execution(
    session: AsyncSession,
    *,
    principal: Principal,
    jobs: JobQueue,
    execution_id: str,
    changes: Mapping[str, Any],
) -> Execution:
    """A worker-style PATCH with the lifecycle's transitions (400 for
    others); timestamps follow the status unless the body gives them."""
    execution = await get_execution(session, principal=principal, execution_id=execution_id)
    principal.require_write()
    values = dict(changes)
    old = execution.status
    new = values.pop("status", None) or old
    if new == old and not values:
        return execution
    execution = await transition(session, PIPELINE_EXECUTIONS, execution, new, values=values)
    if resumes(old, new):
        await _enqueue(session, jobs, execution)
    return execution


async def cancel_execution(
    session: AsyncSession, *, principal: Principal, execution_id: str, reason: str | None
) -> Execution:
    execution = await get_execution(session, principal=principal, execution_id=execution_id)
    principal.require_write()
    text = cancel_reason(execution, reason)
    note = {"message": f"Cancelled: {text}", "cancel_reason": text, "cancellationReason": text}
    return await transition(
        session, PIPELINE_EXECUTIONS, execution, ExecutionStatus.CANCELLED, note=note
    )


async def get_output(
    session: AsyncSession, *, principal: Principal, storage: Storage, execution_id: str
) -> dict[str, Any]:
    execution = await get_execution(session, principal=principal, execution_id=execution_id)
    if execution.status != ExecutionStatus.COMPLETED:
        raise NotFound("output of pipeline execution", execution_id)
    if execution.output_storage_key:
        request = await storage.store.presign(
            "GET",
            execution.output_storage_key,
            expires_in=storage.download_ttl_seconds,
            content_type="application/gzip",
            base_url=storage._route("download"),
        )
        return {
            "type": "s3",
            "download_url": request.url,
            "expires_at": request.expires_at,
            "metadata": {
                "file_size_bytes": execution.output_size_bytes,
                "compression_type": "gzip",
                "file_type": "json",
                "output_summary": execution.pipeline_output_summary,
            },
        }
    if execution.pipeline_output is None:
        raise NotFound("output of pipeline execution", execution_id)
    return {
        "type": "inline",
        "data": execution.pipeline_output,
        "summary": execution.pipeline_output_summary,
    }
