"""Routers that refuse at once a path outside their collection.

FastAPI finds a request's route by asking every included router in turn, and each router tries
its routes one by one: a `GET /pipelines/{id}` was matched against every route of the dozen
routers listed before it (api/__init__.py), about a third of the request's own work. A
`CollectionRouter` knows the collections its routes live under (`/agents`, `/files`, ...) and
answers "no match" for a path that names none of them, before any route is tried.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


def collection_of(path: str) -> str | None:
    """A route path's literal first segment with its slash (`/agents`), or None when the path
    starts with a parameter or is the root (it could then match under any collection)."""
    first = path.split("/", 2)[1] if path.startswith("/") else ""
    if not first or "{" in first:
        return None
    return "/" + first


class CollectionRouter(APIRouter):
    """The routes of one router, matched only for paths that contain one of their collections.

    The test is a substring test on the full request path: whatever prefix the router is
    mounted under, a path its routes match contains their collection, so a path without it
    can match none of them (not even for a 405)."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        super().__init__(routes=routes)
        found = {collection_of(getattr(route, "path", "")) for route in routes}
        self.collections: tuple[str, ...] | None = (
            None if None in found else tuple(sorted(c for c in found if c is not None))
        )

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.collections is not None:
            path = scope.get("path", "")
            if not any(collection in path for collection in self.collections):
                return Match.NONE, {}
        return super().matches(scope)
