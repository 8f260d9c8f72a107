"""The app's routers refuse a path outside their collections before trying a route
(api/collection_router.py); what the app answers is unchanged (test_wire.py covers 404/405)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.routing import Match

from moderately.api import ROUTERS
from moderately.api.collection_router import CollectionRouter, collection_of


@pytest.mark.parametrize(
    ("path", "collection"),
    [
        ("/agents", "/agents"),
        ("/agents/{agentId}", "/agents"),
        ("/api-tokens/{id}/usage", "/api-tokens"),
        ("/health", "/health"),
        ("/", None),
        ("/{anything}", None),
        ("", None),
    ],
)
def test_collection_of(path: str, collection: str | None) -> None:
    assert collection_of(path) == collection


def _router(*paths: str) -> CollectionRouter:
    source = APIRouter()
    for path in paths:
        source.add_api_route(path, lambda: None, methods=["GET"])
    return CollectionRouter(source.routes)


def test_collections_are_those_of_the_routes() -> None:
    assert _router("/agents", "/agents/{agentId}").collections == ("/agents",)
    assert _router("/files", "/_storage/{key}").collections == ("/_storage", "/files")
    # A route that could sit under any collection turns the shortcut off.
    assert _router("/agents", "/{anything}").collections is None


def _scope(path: str, method: str = "GET") -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def test_a_foreign_path_is_refused_before_any_route_is_tried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router = _router("/agents/{agentId}")
    tried: list[str] = []
    monkeypatch.setattr(APIRouter, "matches", lambda self, scope: tried.append(scope["path"]))
    assert router.matches(_scope("/pipelines/abc")) == (Match.NONE, {})
    assert tried == []
    router.matches(_scope("/v1/agents/abc"))  # (under a mount prefix too)
    assert tried == ["/v1/agents/abc"]


def test_every_router_of_the_app_has_collections() -> None:
    """Each published router lives under its own collections, so the shortcut applies to all."""
    for router in ROUTERS:
        assert CollectionRouter(router.routes).collections, router.routes


@pytest.mark.anyio
async def test_the_app_routes_as_before_under_a_mount_prefix() -> None:

    app = FastAPI()
    source = APIRouter(prefix="/agents")

    @source.get("/{agentId}")
    async def read(agentId: str) -> dict[str, str]:
        return {"agentId": agentId}

    app.include_router(CollectionRouter(source.routes), prefix="/v1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/v1/agents/a1")).json() == {"agentId": "a1"}
        assert (await client.post("/v1/agents/a1")).status_code == 405
        assert (await client.get("/v1/pipelines/a1")).status_code == 404
        assert (await client.get("/agents/a1")).status_code == 404
