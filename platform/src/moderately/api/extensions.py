"""This server's extensions of the published Moderately REST API, defined here and nowhere else.

The published API's operations are listed in docs/reference/templates/published-operations.txt.
Every other operation this server serves belongs to one extension below: its route carries
`openapi_extra=marked(<extension>)`, which marks the operation in the OpenAPI document as
`x-moderately-extension: <name>`. `GET /health` lists the enabled names as `extensions` (the SDK
uses an extension only when it is listed). The setting `api_extensions`
(`MODERATELY_API_EXTENSIONS=false`) turns them all off: their routes then answer exactly as an
unknown route does (404 `no such endpoint`) and leave the OpenAPI document, so the server offers
only the published API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

# The OpenAPI key that marks an operation as part of an extension (its value: the name).
MARKER = "x-moderately-extension"


@dataclass(frozen=True)
class Extension:
    name: str
    # What it adds, one sentence.
    purpose: str
    # What a client (the SDK) does on a server that does not list it.
    without: str


DATASET_SCHEMA_INFERENCE = Extension(
    name="dataset-schema-inference",
    purpose="Columns and parsing options of an uploaded file or a data version, read by the "
    "server's own engine.",
    without="`Dataset.create_schema_from_sample` infers the columns and parsing options from "
    "the sample in the client and creates the schema version with "
    "`POST /dataset-schema-versions`; nothing is uploaded.",
)
FILE_UPDATE = Extension(
    name="file-update",
    purpose="Rename a file, link it to a dataset or replace its metadata.",
    without="`files.update` raises a `NotFoundError` that names the missing extension (the "
    "published API cannot change a file; upload a new one).",
)
USER_TEAMS = Extension(
    name="user-teams",
    purpose="The teams of a user that the caller shares with them.",
    without="`users.list_teams` and `User.get_teams()` read the user's memberships "
    "(`GET /team-users?userIds=`) and then each team (`GET /teams/{teamId}`).",
)
TEAM_DELETE = Extension(
    name="team-delete",
    purpose="Delete a team and everything it owns (team admins only).",
    without="`teams.delete` raises a `NotFoundError` that names the missing extension.",
)
AGENT_EXECUTION_CONTROL = Extension(
    name="agent-execution-control",
    purpose="Pause, resume, cancel and delete agent executions.",
    without="`agent_executions.cancel` and `agent_executions.delete` raise a `NotFoundError` "
    "that names the missing extension; an execution runs until it finishes (or its timeout).",
)

EXTENSIONS: tuple[Extension, ...] = (
    DATASET_SCHEMA_INFERENCE,
    FILE_UPDATE,
    USER_TEAMS,
    TEAM_DELETE,
    AGENT_EXECUTION_CONTROL,
)
NAMES: tuple[str, ...] = tuple(extension.name for extension in EXTENSIONS)


def marked(extension: Extension) -> dict[str, Any]:
    """The `openapi_extra` of a route that belongs to `extension`."""
    return {MARKER: extension.name}


def extension_of(route: BaseRoute) -> str | None:
    """The extension a route belongs to, or None for a published one."""
    if not isinstance(route, APIRoute):
        return None
    name = (route.openapi_extra or {}).get(MARKER)
    return name if isinstance(name, str) else None


def enabled(on: bool) -> list[str]:
    """The names `GET /health` lists: all of them, or none when the extensions are off."""
    return list(NAMES) if on else []


async def _no_such_endpoint(request: Request) -> None:
    raise HTTPException(status_code=404)  # api/errors.py: the answer of every unknown route


def published_only(router: APIRouter) -> APIRouter:
    """`router` without its extensions: each extension route is replaced, in its place, by one
    that answers as an unknown route does (a 404, not the 405 that another method of the same
    path, GET /files/{fileId}, would otherwise cause), hidden from the OpenAPI document. A new
    router: the module's own is shared by every app built in the process."""
    if not any(extension_of(route) for route in router.routes):
        return router
    routes: list[BaseRoute] = []
    for route in router.routes:
        if extension_of(route) is None:
            routes.append(route)
            continue
        assert isinstance(route, APIRoute)
        routes.append(
            Route(
                route.path,
                _no_such_endpoint,
                methods=sorted(route.methods or ()),
                name=f"{route.name}_unmounted",
                include_in_schema=False,
            )
        )
    return APIRouter(routes=routes)
