"""Pipelines and their configuration versions.

* Pipeline names are unique in a team (409). Run metrics come from the executions of any of
  the pipeline's versions: `totalRuns`, `successfulRuns` (completed), `lastRunAt` (latest
  `createdAt`), `successRate` (percentage, 0 without runs).
* A version's `version` is the pipeline's highest + 1 (first 1), assigned under the pipeline's
  row lock. At most one `current` version per pipeline: creating or patching a second → 409
  (a partial unique index backs the rule). A current version's configuration cannot change
  and it cannot be deleted (400: archive it first). Clone copies the configuration into a new
  draft with the next number.
* Configurations are stored as submitted (plus `connections`/`version` defaults) after the
  engine's structural rules; the full catalogue runs at /validate and at execution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.db.models import Pipeline, PipelineConfigurationVersion, PipelineExecution
from moderately.engine import (
    configuration_json_schema,
    normalize_for_storage,
    validate_configuration,
)
from moderately.errors import Conflict, Invalid, InvalidState
from moderately.schemas.pipelines import VersionStatuses
from moderately.services import object_removals
from moderately.services.auth import Principal
from moderately.services.filters import ListFilters, Values, equal, filtered, like, one_of
from moderately.services.paging import Page, PageParams, paginate
from moderately.services.run_metrics import (
    MeteredView,
    Runs,
    get_metered,
    new_metered,
    with_run_metrics,
)
from moderately.services.scope import (
    ensure_unique_name,
    get_scoped,
    rename,
    team_for_create,
)
from moderately.services.transfers import Storage
from moderately.statuses import VersionStatus

PIPELINE_SORT = {
    "name": Pipeline.name,
    "createdAt": Pipeline.created_at,
    "updatedAt": Pipeline.updated_at,
}
Version = PipelineConfigurationVersion
VERSION_SORT = {
    "version": Version.version,
    "createdAt": Version.created_at,
    "updatedAt": Version.updated_at,
}


@dataclass(frozen=True)
class PipelineView(MeteredView):
    """A pipeline with its run metrics (the wire's Pipeline)."""

    pipeline_id: str


# ---- pipelines ----


# Where a pipeline's runs are: its executions, by pipeline, status and creation.
_RUNS = Runs(
    owner=PipelineExecution.pipeline_id,
    status=PipelineExecution.status,
    last=PipelineExecution.created_at,
)


async def _with_metrics(session: AsyncSession, pipelines: Sequence[Pipeline]) -> list[PipelineView]:
    return await with_run_metrics(session, pipelines, PipelineView, _RUNS)


class PipelineFilters(ListFilters):
    team_column = Pipeline.team_id
    pipeline_ids: Annotated[Values, Field(alias="pipelineIds"), one_of(Pipeline.pipeline_id)] = None
    name_like: Annotated[
        str | None,
        Field(alias="nameLike", description="case-insensitive substring"),
        like(Pipeline.name),
    ] = None


async def list_pipelines(
    session: AsyncSession, *, principal: Principal, params: PageParams, filters: PipelineFilters
) -> Page[PipelineView]:
    stmt = filtered(select(Pipeline), filters, principal)
    page = await paginate(
        session, stmt, params=params, sort_columns=PIPELINE_SORT, id_column=Pipeline.pipeline_id
    )
    return replace(page, items=await _with_metrics(session, page.items))


async def get_pipeline(
    session: AsyncSession, *, principal: Principal, pipeline_id: str
) -> PipelineView:
    return await get_metered(session, Pipeline, pipeline_id, principal, PipelineView, _RUNS)


async def create_pipeline(
    session: AsyncSession,
    *,
    principal: Principal,
    name: str,
    description: str | None = None,
    team_id: str | None = None,
    request_team_ids: Sequence[str] = (),
) -> PipelineView:
    principal.require_write()
    team_id = team_for_create(principal, team_id=team_id, request_team_ids=request_team_ids)
    await ensure_unique_name(
        session, Pipeline.pipeline_id, what="a pipeline", team_id=team_id, name=name
    )
    pipeline = Pipeline(team_id=team_id, name=name, description=description)
    session.add(pipeline)
    await session.flush()
    return new_metered(pipeline, PipelineView, _RUNS)


async def update_pipeline(
    session: AsyncSession, *, principal: Principal, pipeline_id: str, changes: Mapping[str, Any]
) -> PipelineView:
    pipeline = await get_scoped(session, Pipeline, pipeline_id, principal)
    principal.require_write()
    await rename(session, pipeline, Pipeline.pipeline_id, changes.get("name"), what="a pipeline")
    if "description" in changes:
        pipeline.description = changes["description"]
    await session.flush()
    await session.refresh(pipeline)
    return (await _with_metrics(session, [pipeline]))[0]


async def execution_objects(session: AsyncSession, condition: Any) -> list[str]:
    """What the executions matching `condition` stored (outputs, artifacts, checkpoints): one
    key prefix each, and any output kept outside it."""
    query = select(PipelineExecution.pipeline_execution_id, PipelineExecution.output_storage_key)
    targets = []
    for execution_id, output_key in (await session.execute(query.where(condition))).all():
        prefix = object_removals.execution_prefix(execution_id)
        targets.append(prefix)
        if output_key and not output_key.startswith(prefix):
            targets.append(output_key)
    return targets


async def delete_pipeline(
    session: AsyncSession, *, principal: Principal, storage: Storage, pipeline_id: str
) -> None:
    """The pipeline, its versions and their executions (ON DELETE CASCADE), then (once that
    committed) everything those executions stored (services/object_removals.py)."""
    pipeline = await get_scoped(session, Pipeline, pipeline_id, principal)
    principal.require_write()
    targets = await execution_objects(
        session, PipelineExecution.pipeline_id == pipeline.pipeline_id
    )
    await session.execute(delete(Pipeline).where(Pipeline.pipeline_id == pipeline.pipeline_id))
    session.expunge(pipeline)
    await object_removals.schedule(session, targets)
    await object_removals.remove_after_commit(session, storage)


# ---- configuration versions ----


def check_structure(configuration: Any) -> dict[str, Any]:
    """The stored form of `configuration`, or 400 with the structural errors as details."""
    report = validate_configuration(configuration, structural_only=True)
    if not report.valid:
        raise Invalid(
            f"malformed configuration: {report.errors[0].message}",
            details=[error.to_wire() for error in report.errors],
            code="invalid_pipeline_configuration",
        )
    return normalize_for_storage(configuration)


def validation_report(configuration: Any) -> dict[str, Any]:
    """POST .../validate: the whole catalogue; an invalid document is a report, not an error."""
    return validate_configuration(configuration).to_wire()


def json_schema() -> dict[str, Any]:
    return configuration_json_schema()


class PipelineVersionFilters(ListFilters):
    team_column = Version.team_id
    pipeline_ids: Annotated[Values, Field(alias="pipelineIds"), one_of(Version.pipeline_id)] = None
    version_ids: Annotated[
        Values,
        Field(alias="pipelineConfigurationVersionIds"),
        one_of(Version.pipeline_configuration_version_id),
    ] = None
    status: Annotated[VersionStatus | None, equal(Version.status)] = None
    statuses: Annotated[
        VersionStatuses, Field(description="any of these statuses"), one_of(Version.status)
    ] = None


async def list_versions(
    session: AsyncSession,
    *,
    principal: Principal,
    params: PageParams,
    filters: PipelineVersionFilters,
) -> Page[Version]:
    stmt = filtered(select(Version), filters, principal)
    return await paginate(
        session,
        stmt,
        params=params,
        sort_columns=VERSION_SORT,
        id_column=Version.pipeline_configuration_version_id,
    )


async def get_version(session: AsyncSession, *, principal: Principal, version_id: str) -> Version:
    return await get_scoped(session, Version, version_id, principal)


async def _ensure_no_current(
    session: AsyncSession, pipeline_id: str, *, other_than: str | None = None
) -> None:
    stmt = select(Version.pipeline_configuration_version_id).where(
        Version.pipeline_id == pipeline_id, Version.status == VersionStatus.CURRENT
    )
    if other_than is not None:
        stmt = stmt.where(Version.pipeline_configuration_version_id != other_than)
    if await session.scalar(stmt) is not None:
        raise Conflict("the pipeline already has a current configuration version: archive it first")


async def _next_version(session: AsyncSession, pipeline_id: str) -> int:
    highest = await session.scalar(
        select(func.max(Version.version)).where(Version.pipeline_id == pipeline_id)
    )
    return int(highest or 0) + 1


async def create_version(
    session: AsyncSession,
    *,
    principal: Principal,
    pipeline_id: str,
    configuration: dict[str, Any],
    status: VersionStatus = VersionStatus.DRAFT,
) -> Version:
    pipeline = await get_scoped(session, Pipeline, pipeline_id, principal, lock=True)
    principal.require_write()
    stored = check_structure(configuration)
    if status == VersionStatus.CURRENT:
        await _ensure_no_current(session, pipeline.pipeline_id)
    version = Version(
        pipeline_id=pipeline.pipeline_id,
        team_id=pipeline.team_id,
        version=await _next_version(session, pipeline.pipeline_id),
        status=status,
        configuration=stored,
    )
    session.add(version)
    await session.flush()
    return version


async def update_version(
    session: AsyncSession, *, principal: Principal, version_id: str, changes: Mapping[str, Any]
) -> Version:
    version = await get_version(session, principal=principal, version_id=version_id)
    principal.require_write()
    await get_scoped(session, Pipeline, version.pipeline_id, principal, lock=True)
    configuration = changes.get("configuration")
    status = changes.get("status")
    if configuration is not None:
        if version.status == VersionStatus.CURRENT and status in (None, VersionStatus.CURRENT):
            raise InvalidState(
                "the configuration of the current version cannot change: clone it, or archive "
                "it first",
                field="configuration",
            )
        version.configuration = check_structure(configuration)
    if status is not None and status != version.status:
        if status == VersionStatus.CURRENT:
            await _ensure_no_current(
                session, version.pipeline_id, other_than=version.pipeline_configuration_version_id
            )
        version.status = status
    await session.flush()
    await session.refresh(version)
    return version


async def delete_version(
    session: AsyncSession, *, principal: Principal, storage: Storage, version_id: str
) -> None:
    """A non-current version and its executions, then (once that committed) everything those
    executions stored."""
    version = await get_version(session, principal=principal, version_id=version_id)
    principal.require_write()
    if version.status == VersionStatus.CURRENT:
        raise InvalidState(
            "the current configuration version cannot be deleted: archive it first",
            field="status",
            value=version.status,
        )
    targets = await execution_objects(
        session,
        PipelineExecution.pipeline_configuration_version_id
        == version.pipeline_configuration_version_id,
    )
    await session.execute(
        delete(Version).where(
            Version.pipeline_configuration_version_id == version.pipeline_configuration_version_id
        )
    )
    session.expunge(version)
    await object_removals.schedule(session, targets)
    await object_removals.remove_after_commit(session, storage)


async def clone_version(session: AsyncSession, *, principal: Principal, version_id: str) -> Version:
    source = await get_version(session, principal=principal, version_id=version_id)
    principal.require_write()
    await get_scoped(session, Pipeline, source.pipeline_id, principal, lock=True)
    clone = Version(
        pipeline_id=source.pipeline_id,
        team_id=source.team_id,
        version=await _next_version(session, source.pipeline_id),
        status=VersionStatus.DRAFT,
        configuration=source.configuration,
    )
    session.add(clone)
    await session.flush()
    return clone
