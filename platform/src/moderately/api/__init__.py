"""HTTP layer: thin routers, one per resource, listed once here."""

from fastapi import APIRouter

from moderately.api import (
    agent_configuration_versions,
    agent_executions,
    agents,
    api_tokens,
    audit_logs,
    authentication,
    dataset_data_versions,
    dataset_schema_versions,
    datasets,
    files,
    health,
    pipeline_configuration_versions,
    pipeline_executions,
    pipelines,
    storage,
    team_users,
    teams,
    users,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    authentication.router,
    api_tokens.router,
    users.router,
    teams.router,
    team_users.router,
    agents.router,
    agent_configuration_versions.router,
    agent_executions.router,
    files.router,
    datasets.router,
    dataset_data_versions.router,
    dataset_schema_versions.router,
    pipelines.router,
    pipeline_configuration_versions.router,
    pipeline_executions.router,
    storage.router,
    audit_logs.router,
)
