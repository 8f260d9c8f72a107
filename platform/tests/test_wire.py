"""Wire rules of docs/reference/api.md (Conventions, Error statuses), on every database."""

from __future__ import annotations

import re

import httpx
import pytest
from api_helpers import Account, MakeAccount, assert_error

pytestmark = pytest.mark.anyio

ID = re.compile(r"[A-Za-z0-9_-]{21}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


async def test_health_needs_no_token(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["version"]
    assert ID.fullmatch(response.headers["x-request-id"])


async def test_whoami(alice: Account) -> None:
    response = await alice.client.get("/authentication/whoami", params={"teamIds": alice.team_id})
    assert response.status_code == 200
    assert response.json() == {"userId": alice.user_id}
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer mai_not-a-real-token", "Basic dXNlcjpwYXNz", "mai_x"],
)
async def test_bad_credentials_answer_401(
    anonymous: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await anonymous.get("/agents", headers=headers)
    assert_error(response, 401, "UNAUTHORIZED")


async def test_ids_and_timestamps_and_camel_case(alice: Account) -> None:
    response = await alice.client.post("/agents", json={"name": "wire", "teamId": alice.team_id})
    assert response.status_code == 201
    agent = response.json()
    assert ID.fullmatch(agent["agentId"])
    assert TIMESTAMP.fullmatch(agent["createdAt"]) and TIMESTAMP.fullmatch(agent["updatedAt"])
    assert set(agent) == {
        "agentId", "teamId", "name", "description", "createdAt", "updatedAt",
        "lastRunAt", "totalRuns", "successfulRuns", "successRate",
    }  # fmt: skip
    assert response.headers["content-type"].startswith("application/json")


async def test_unknown_route_and_method(alice: Account) -> None:
    assert_error(await alice.client.get("/no-such-thing"), 404, "NOT_FOUND")
    response = await alice.client.put("/agents")
    assert_error(response, 405)
    assert "GET" in response.headers["allow"] and "POST" in response.headers["allow"]


async def test_malformed_json_and_wrong_types(alice: Account) -> None:
    headers = {"Content-Type": "application/json"}
    body = assert_error(
        await alice.client.post("/agents", content=b"{not json", headers=headers), 400
    )
    assert body["details"][0]["field"] == "body"
    body = assert_error(await alice.client.post("/agents", json={"name": 42}), 400)
    assert body["details"] == [
        {"field": "name", "message": "Input should be a valid string", "value": 42}
    ]
    body = assert_error(await alice.client.post("/agents", json=["name"]), 400)
    assert body["details"]
    assert_error(await alice.client.post("/agents", json={"name": "x" * 256}), 400)
    assert_error(await alice.client.post("/agents", json={"name": ""}), 400)
    assert_error(
        await alice.client.post("/agents", json={"name": "d", "description": "x" * 1001}), 400
    )


async def test_empty_json_body_is_an_empty_object(alice: Account) -> None:
    headers = {"Content-Type": "application/json"}
    body = assert_error(await alice.client.post("/agents", content=b"", headers=headers), 400)
    assert body["details"] == [{"field": "name", "message": "Field required"}]
    response = await alice.client.post("/teams", content=b"", headers=headers)
    assert_error(response, 400)
    agent = (await alice.client.post("/agents", json={"name": "empty-patch"})).json()
    response = await alice.client.patch(f"/agents/{agent['agentId']}", content=b"", headers=headers)
    assert response.status_code == 200
    assert response.json()["name"] == "empty-patch"


async def test_body_without_content_type_is_json(alice: Account) -> None:
    request = alice.client.build_request("POST", "/agents", content=b'{"name": "no-ct"}')
    assert "content-type" not in request.headers
    assert (await alice.client.send(request)).status_code == 201


async def test_unknown_body_keys_are_ignored(alice: Account) -> None:
    response = await alice.client.post(
        "/agents", json={"name": "extra", "color": "blue", "nested": {"a": 1}}
    )
    assert response.status_code == 201
    assert "color" not in response.json()


@pytest.mark.parametrize("page_size", ["0", "-1", "1001", "abc", "1.5", "9" * 30])
async def test_bad_page_size_is_400(alice: Account, page_size: str) -> None:
    body = assert_error(await alice.client.get("/agents", params={"pageSize": page_size}), 400)
    assert body["details"][0]["field"] == "pageSize"


@pytest.mark.parametrize("page", ["0", "-3", "x", ""])
async def test_bad_page_is_400(alice: Account, page: str) -> None:
    assert_error(await alice.client.get("/teams", params={"page": page}), 400)


async def test_huge_page_is_an_empty_page(alice: Account) -> None:
    response = await alice.client.get("/agents", params={"page": str(10**30)})
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["pagination"]["hasPreviousPage"] is True


async def test_unknown_sort_value_is_400(alice: Account) -> None:
    body = assert_error(await alice.client.get("/agents", params={"orderBy": "color"}), 400)
    assert body["details"][0]["field"] == "orderBy"
    assert_error(await alice.client.get("/agents", params={"orderDirection": "up"}), 400)


@pytest.mark.parametrize(
    "agent_id", ["x", "a" * 5000, "%00", "..%2F..%2Fetc", "%E2%98%83", "agent_456def", "1 OR 1=1"]
)
async def test_odd_path_ids_are_404(alice: Account, agent_id: str) -> None:
    response = await alice.client.get(f"/agents/{agent_id}")
    assert_error(response, 404, "NOT_FOUND")


async def test_paging_envelope_and_stable_sort(make_account: MakeAccount) -> None:
    account = await make_account()
    for name in ["delta", "alpha", "charlie", "bravo", "echo"]:
        assert (await account.client.post("/agents", json={"name": name})).status_code == 201
    response = await account.client.get(
        "/agents", params={"pageSize": 2, "page": 2, "orderBy": "name"}
    )
    assert response.status_code == 200
    page = response.json()
    assert [a["name"] for a in page["items"]] == ["charlie", "delta"]
    assert page["pagination"] == {
        "page": 2, "pageSize": 2, "totalItems": 5, "totalPages": 3,
        "hasNextPage": True, "hasPreviousPage": True,
    }  # fmt: skip
    # snake_case keys and values, as 0.2.7 sends them
    response = await account.client.get(
        "/agents", params={"page_size": 3, "order_by": "created_at", "order_direction": "desc"}
    )
    names = [a["name"] for a in response.json()["items"]]
    assert names == ["echo", "bravo", "charlie"]
    # camelCase wins when both spellings are present
    response = await account.client.get("/agents", params={"pageSize": 1, "page_size": 4})
    assert response.json()["pagination"]["pageSize"] == 1
    # past the end: empty page, true totals
    response = await account.client.get("/agents", params={"page": 9})
    assert response.json()["items"] == []
    assert response.json()["pagination"]["totalItems"] == 5


async def test_multi_value_filters_accept_repeats_and_commas(alice: Account) -> None:
    ids = [
        (await alice.client.post("/agents", json={"name": f"multi-{i}"})).json()["agentId"]
        for i in range(3)
    ]
    repeated = await alice.client.get(
        "/agents", params=[("agentIds", ids[0]), ("agentIds", ids[1])]
    )
    comma = await alice.client.get("/agents", params={"agentIds": f"{ids[0]},{ids[1]}"})
    mixed = await alice.client.get(
        "/agents", params=[("agentIds", f"{ids[0]}, "), ("agent_ids", ids[1]), ("agentIds", "")]
    )
    for response in (repeated, comma):
        assert sorted(a["agentId"] for a in response.json()["items"]) == sorted(ids[:2])
    # agent_ids (snake) loses to agentIds (camel) when both are present
    assert [a["agentId"] for a in mixed.json()["items"]] == [ids[0]]


async def test_team_ids_everywhere(alice: Account, bob: Account) -> None:
    # Accepted (and ignored) where the endpoint has no such filter, as 0.2.7 sends it on every call.
    response = await alice.client.get("/authentication/whoami", params={"team_ids": alice.team_id})
    assert response.status_code == 200
    # A team the caller is not in: 403, never data.
    for path in ("/agents", "/teams", "/users", "/team-users", "/authentication/whoami"):
        response = await alice.client.get(path, params={"teamIds": bob.team_id})
        assert_error(response, 403, "FORBIDDEN")
    response = await alice.client.get("/agents", params={"teamIds": "no-such-team"})
    assert_error(response, 403)


async def test_readonly_token_cannot_write(alice: Account, make_account: MakeAccount) -> None:
    created = await alice.client.post("/api-tokens", json={"name": "ro", "role": "readonly"})
    assert created.status_code == 201
    readonly = httpx.AsyncClient(
        transport=alice.client._transport,
        base_url="http://test",
        headers={"Authorization": f"Bearer {created.json()['token']}"},
    )
    async with readonly:
        assert (await readonly.get("/agents")).status_code == 200
        assert_error(await readonly.post("/agents", json={"name": "nope"}), 403, "FORBIDDEN")
        assert_error(await readonly.post("/teams", json={"name": "nope"}), 403)
        assert_error(await readonly.patch(f"/users/{alice.user_id}", json={"fullName": "x"}), 403)
