"""The extensions of the published API (api/extensions.py): marked in the OpenAPI document, listed
by GET /health, and gone (404, out of the document, not listed) when MODERATELY_API_EXTENSIONS is
off. Every operation the server documents is either published
(docs/reference/templates/published-operations.txt) or marked."""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import assert_error

from moderately.api.extensions import EXTENSIONS, MARKER, NAMES
from moderately.app import create_app
from moderately.cli import build_parser, settings_from
from moderately.config import Settings
from moderately.testing import RunningServer, run_server

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "docs" / "reference" / "templates" / "published-operations.txt"
CHECKED_IN = ROOT / "docs" / "reference" / "openapi.json"
METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")

# Each extension operation, with a body that its handler reads (None: no body).
EXTENSION_CALLS: list[tuple[str, str, str, Any]] = [
    ("dataset-schema-inference", "POST", "/dataset-schema-versions/infer", {}),
    ("file-update", "PATCH", "/files/{id}", {"fileName": "renamed.txt"}),
    ("user-teams", "GET", "/users/{id}/teams", None),
    ("team-delete", "DELETE", "/teams/{id}", None),
    ("agent-execution-control", "PATCH", "/agent-executions/{id}", {"status": "paused"}),
    ("agent-execution-control", "DELETE", "/agent-executions/{id}", None),
    ("agent-execution-control", "POST", "/agent-executions/{id}/cancel", {}),
    ("agent-execution-control", "PATCH", "/agent-executions/{id}/cancel", {}),
]


def published_operations() -> set[tuple[str, str]]:
    found = set()
    for line in PUBLISHED.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            method, path = line.split()
            found.add((method.upper(), path))
    return found


def documented(document: dict[str, Any]) -> dict[tuple[str, str], str | None]:
    """(METHOD, path) of every operation, with its extension's name (None: published)."""
    return {
        (method.upper(), path): operation.get(MARKER)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def built_document(*, api_extensions: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), api_extensions=api_extensions)
        document: dict[str, Any] = create_app(settings).openapi()
        return document


def test_the_published_list_is_plain_method_and_path() -> None:
    published = published_operations()
    assert len(published) >= 80
    assert ("GET", "/health") in published
    for method, path in published:
        assert method.lower() in METHODS and path.startswith("/"), (method, path)


def test_every_operation_is_published_or_marked() -> None:
    published = published_operations()
    operations = documented(built_document(api_extensions=True))
    unmarked = sorted(op for op, name in operations.items() if name is None and op not in published)
    assert not unmarked, f"neither published nor marked as an extension: {unmarked}"
    marked = {op: name for op, name in operations.items() if name is not None}
    # A marked operation is really beyond the published API, and names a defined extension.
    assert not set(marked) & published
    assert set(marked.values()) == set(NAMES)
    # ... and exactly the ones this module calls below, with their names.
    assert {(m, generic(p)): name for (m, p), name in marked.items()} == {
        (method, path): name for name, method, path, _ in EXTENSION_CALLS
    }


def generic(path: str) -> str:
    """`/files/{fileId}` as `/files/{id}`."""
    return re.sub(r"\{[^}]+\}", "{id}", path)


def test_off_the_document_has_only_published_operations() -> None:
    operations = documented(built_document(api_extensions=False))
    assert all(name is None for name in operations.values())
    assert set(operations) <= published_operations()
    on = documented(built_document(api_extensions=True))
    assert set(on) - set(operations) == {op for op, name in on.items() if name is not None}


def test_the_checked_in_document_marks_the_extensions() -> None:
    document = json.loads(CHECKED_IN.read_text(encoding="utf-8"))
    published = published_operations()
    operations = documented(document)
    marked = {op for op, name in operations.items() if name is not None}
    assert marked == set(operations) - published
    assert {name for name in operations.values() if name} == set(NAMES)
    assert documented(built_document(api_extensions=True)) == operations
    health = document["components"]["schemas"]["HealthPublic"]
    assert "extensions" in health["required"]


def test_names_are_defined_once_and_documented() -> None:
    assert len(set(NAMES)) == len(NAMES) == len(EXTENSIONS)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", name) for name in NAMES)
    reference = (ROOT / "docs" / "reference" / "api.md").read_text(encoding="utf-8")
    section = reference.split("## Extensions", 1)[1].split("\n## ", 1)[0]
    for extension in EXTENSIONS:
        assert f"`{extension.name}`" in section and extension.without in section
    assert "MODERATELY_API_EXTENSIONS=false" in section
    assert "MODERATELY_API_EXTENSIONS" in (ROOT / "docs" / "operators.md").read_text()


def test_serve_flag_turns_them_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODERATELY_API_EXTENSIONS", raising=False)
    parser = build_parser()
    assert settings_from(parser.parse_args(["serve"])).api_extensions is True
    assert settings_from(parser.parse_args(["serve", "--no-extensions"])).api_extensions is False
    monkeypatch.setenv("MODERATELY_API_EXTENSIONS", "false")
    assert settings_from(parser.parse_args(["serve"])).api_extensions is False
    # The worker processes the server starts get the setting with the rest.
    assert Settings(api_extensions=False).environment()["MODERATELY_API_EXTENSIONS"] == "false"


# -- real servers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[bool, RunningServer]]:
    """Extensions on and off, side by side in one process (each app has its own routes)."""
    with (
        run_server(data_dir=tmp_path_factory.mktemp("on"), workers=0) as on,
        run_server(data_dir=tmp_path_factory.mktemp("off"), workers=0, api_extensions=False) as off,
    ):
        yield {True: on, False: off}


def client(server: RunningServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.admin.api_key}"},
        timeout=30,
    )


def new_team(http: httpx.Client) -> str:
    response = http.post("/teams", json={"name": f"doomed {uuid.uuid4().hex[:8]}"})
    assert response.status_code == 200, response.text
    team_id: str = response.json()["teamId"]
    return team_id


def test_health_lists_the_enabled_extensions(servers: dict[bool, RunningServer]) -> None:
    for on, server in servers.items():
        health = httpx.get(f"{server.base_url}/health").json()
        assert health["status"] == "ok" and health["extensions"] == (list(NAMES) if on else [])
    assert servers[False].settings.api_extensions is False
    assert servers[True].settings.api_extensions is True


def test_served_documents(servers: dict[bool, RunningServer]) -> None:
    on = documented(httpx.get(f"{servers[True].base_url}/openapi.json").json())
    off = documented(httpx.get(f"{servers[False].base_url}/openapi.json").json())
    assert {name for name in on.values() if name} == set(NAMES)
    assert all(name is None for name in off.values())
    assert set(off) == {op for op, name in on.items() if name is None}
    assert set(off) <= published_operations()


@pytest.mark.parametrize(("name", "method", "path", "body"), EXTENSION_CALLS)
def test_off_an_extension_answers_as_an_unknown_route(
    servers: dict[bool, RunningServer], name: str, method: str, path: str, body: Any
) -> None:
    server = servers[False]
    with client(server) as http:
        target = path.format(id=server.admin.user_id if "users" in path else server.admin.team_id)
        response = http.request(method, target, json=body)
        unknown = http.request(method, f"/no-such-route/{uuid.uuid4().hex}", json=body)
        # Without a token, too: an unknown route asks for none.
        anonymous = httpx.request(method, f"{server.base_url}{target}", json=body)
    for answer in (response, unknown, anonymous):
        envelope = assert_error(answer, 404, "NOT_FOUND")
        assert envelope["message"] == "no such endpoint"
    assert "allow" not in response.headers


@pytest.mark.parametrize(("name", "method", "path", "body"), EXTENSION_CALLS)
def test_on_an_extension_reaches_its_handler(
    servers: dict[bool, RunningServer], name: str, method: str, path: str, body: Any
) -> None:
    server = servers[True]
    with client(server) as http:
        if name == "user-teams":
            response = http.get(path.format(id=server.admin.user_id))
            assert response.status_code == 200, response.text
            teams = [team["teamId"] for team in response.json()["items"]]
            assert server.admin.team_id in teams
            return
        if name == "team-delete":  # with a token of the new team (tokens are team-bound)
            team_id = new_team(http)
            token = server.create_token(server.admin.user_id, team_id=team_id).api_key
            auth = {"Authorization": f"Bearer {token}"}
            response = http.delete(path.format(id=team_id), headers=auth)
            assert response.status_code == 200, response.text
            assert response.json()["message"] == "team deleted"
            assert http.get(f"/teams/{team_id}", headers=auth).status_code in (401, 404)
            return
        response = http.request(method, path.format(id="missing0000000000000"), json=body)
    if name == "dataset-schema-inference":  # neither fileId nor a data version: refused
        assert_error(response, 400)
    else:  # the handler looked for the object
        envelope = assert_error(response, 404, "NOT_FOUND")
        assert envelope["message"] != "no such endpoint"


def test_off_the_published_operations_still_work(servers: dict[bool, RunningServer]) -> None:
    server = servers[False]
    with client(server) as http:
        team_id = new_team(http)
        token = server.create_token(server.admin.user_id, team_id=team_id).api_key
        http.headers["Authorization"] = f"Bearer {token}"
        assert http.delete(f"/teams/{team_id}").status_code == 404  # team-delete is off
        assert http.get(f"/teams/{team_id}").json()["teamId"] == team_id  # still there
        renamed = http.patch(f"/teams/{team_id}", json={"name": "kept"})
        assert renamed.status_code == 200 and renamed.json()["name"] == "kept"
        assert http.get(f"/users/{server.admin.user_id}").status_code == 200
        # A method no route of the path has stays a 405, naming only published methods.
        put = http.put(f"/files/{team_id}", json={})
        assert_error(put, 405)
        assert put.headers["allow"] == "DELETE, GET"
