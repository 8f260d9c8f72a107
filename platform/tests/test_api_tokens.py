"""API tokens: shown once, stored hashed, admin-managed, usage counted."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from api_helpers import Account, MakeAccount, assert_error, client_for
from fastapi import FastAPI

from moderately.db.models import ApiToken
from moderately.db.session import Database

pytestmark = pytest.mark.anyio


async def test_create_use_and_delete(alice: Account, app: FastAPI, database: Database) -> None:
    response = await alice.client.post(
        "/api-tokens", json={"teamId": alice.team_id, "name": "ci", "role": "member"}
    )
    assert response.status_code == 201
    created = response.json()
    secret = created["token"]
    assert secret.startswith("mai_") and len(secret) == 44
    assert created["role"] == "member" and created["expiresAt"] is None
    # only the hash is stored
    async with database.session(write=False) as session:
        row = await session.get(ApiToken, created["tokenId"])
        assert row is not None
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in {row.token_hash, row.token_prefix, row.last4}

    async with client_for(app, secret) as client:
        assert (await client.get("/authentication/whoami")).json() == {"userId": alice.user_id}
        listed = await client.get("/api-tokens", params={"teamId": alice.team_id})
        item = next(t for t in listed.json()["items"] if t["tokenId"] == created["tokenId"])
        assert "token" not in item
        assert item["tokenPrefix"] == secret[:8] and item["last4"] == secret[-4:]
        assert item["createdByUserId"] == alice.user_id and item["isActive"] is True

        # a member-role token of an admin user manages no tokens: the token's role caps its user's
        body = assert_error(await client.post("/api-tokens", json={"name": "m"}), 403)
        assert "admin role" in body["message"] and "token's role is member" in body["message"]
        own = f"/api-tokens/{created['tokenId']}"
        assert_error(await client.patch(own, json={"isActive": False}), 403)
        assert_error(await client.delete(own), 403)
        response = await alice.client.delete(f"/api-tokens/{created['tokenId']}")
        assert response.status_code == 204 and response.content == b""
        assert_error(await client.get("/authentication/whoami"), 401)  # at once
    assert_error(await alice.client.get(f"/api-tokens/{created['tokenId']}"), 404)


async def test_detail_usage_and_update(alice: Account) -> None:
    created = (await alice.client.post("/api-tokens", json={"name": "watched"})).json()
    token_id = created["tokenId"]
    headers = {"Authorization": f"Bearer {created['token']}"}
    for _ in range(3):
        await alice.client.get("/agents", headers=headers)
    await alice.client.get("/agents/nope", headers=headers)

    detail = (await alice.client.get(f"/api-tokens/{token_id}")).json()
    assert detail["createdBy"]["userId"] == alice.user_id
    assert detail["usageStats"]["totalRequests"] == 4
    assert detail["usageStats"]["requestsLast24Hours"] == 4
    assert detail["lastUsedAt"] is not None

    usage = (await alice.client.get(f"/api-tokens/{token_id}/usage")).json()
    assert usage["totalRequests"] == 4
    assert usage["requestsByEndpoint"] == {"/agents": 3, "/agents/{agentId}": 1}
    assert usage["requestsByMethod"] == {"GET": 4}
    assert usage["errorRate"] == 25.0 and usage["averageResponseTime"] > 0
    usage = await alice.client.get(
        f"/api-tokens/{token_id}/usage", params={"endpoint": "/agents", "method": "get"}
    )
    assert usage.json()["totalRequests"] == 3
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    usage = await alice.client.get(f"/api-tokens/{token_id}/usage", params={"startDate": later})
    assert usage.json()["totalRequests"] == 0
    assert_error(
        await alice.client.get(f"/api-tokens/{token_id}/usage", params={"startDate": "soon"}), 400
    )

    listed = (await alice.client.get("/api-tokens", params={"tokenIds": token_id})).json()
    assert [t["usage7Days"] for t in listed["items"]] == [4]

    expiry = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    response = await alice.client.patch(
        f"/api-tokens/{token_id}",
        json={"name": "renamed", "expiresAt": expiry.isoformat(), "isActive": False},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "renamed" and body["isActive"] is False
    assert body["expiresAt"] == expiry.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert body["usage7Days"] >= 4
    assert_error(await alice.client.get("/agents", headers=headers), 401)  # inactive
    await alice.client.patch(f"/api-tokens/{token_id}", json={"isActive": True})
    assert (await alice.client.get("/agents", headers=headers)).status_code == 200
    assert_error(
        await alice.client.patch(f"/api-tokens/{token_id}", json={"expiresAt": "tomorrow"}), 400
    )


async def test_expired_token_is_401(alice: Account, app: FastAPI) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    created = await alice.client.post("/api-tokens", json={"name": "old", "expiresAt": past})
    assert created.status_code == 201
    async with client_for(app, created.json()["token"]) as client:
        assert_error(await client.get("/teams"), 401)


async def test_list_rules(make_account: MakeAccount) -> None:
    admin = await make_account()
    member = await make_account(team_id=admin.team_id)
    # teamId falls back to teamIds, then to the token's team; members may list
    for params in ({"teamId": admin.team_id}, {"teamIds": admin.team_id}, {}):
        response = await member.client.get("/api-tokens", params=params)
        assert response.status_code == 200
        assert response.json()["pagination"]["totalItems"] == 2
    response = await admin.client.get("/api-tokens", params={"orderBy": "name", "pageSize": 1})
    assert response.json()["pagination"]["totalPages"] == 2
    assert_error(await admin.client.get("/api-tokens", params={"pageSize": 1001}), 400)
    assert_error(await admin.client.post("/api-tokens", json={"name": "r", "role": "owner"}), 400)
    some_token = response.json()["items"][0]["tokenId"]
    assert (await member.client.get(f"/api-tokens/{some_token}")).status_code == 200
    assert_error(await member.client.patch(f"/api-tokens/{some_token}", json={"name": "x"}), 403)
    assert_error(await member.client.delete(f"/api-tokens/{some_token}"), 403)


async def test_token_of_removed_member_stops_working(make_account: MakeAccount) -> None:
    admin = await make_account()
    member = await make_account(team_id=admin.team_id)
    rows = (await admin.client.get("/team-users", params={"userIds": member.user_id})).json()
    await admin.client.delete(f"/team-users/{rows['items'][0]['teamUserId']}")
    assert_error(await member.client.get("/teams"), 401)


async def test_anonymous_is_401_everywhere(anonymous: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api-tokens"),
        ("POST", "/api-tokens"),
        ("GET", "/api-tokens/x"),
        ("GET", "/api-tokens/x/usage"),
        ("GET", "/users"),
        ("GET", "/teams"),
        ("POST", "/teams"),
        ("GET", "/team-users"),
        ("GET", "/agents"),
        ("DELETE", "/agents/x"),
    ]:
        assert_error(await anonymous.request(method, path, json={}), 401)
