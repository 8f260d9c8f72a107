"""Agents: CRUD, team resolution for creates, unique names, metrics fields."""

from __future__ import annotations

import pytest
from api_helpers import Account, MakeAccount, account_in, assert_error
from fastapi import FastAPI

pytestmark = pytest.mark.anyio

METRICS = {"lastRunAt": None, "totalRuns": 0, "successfulRuns": 0, "successRate": 0}


async def test_agent_crud(alice: Account) -> None:
    response = await alice.client.post(
        "/agents",
        json={"name": "Research Assistant", "description": "reads", "teamId": alice.team_id},
    )
    assert response.status_code == 201
    agent = response.json()
    assert agent["teamId"] == alice.team_id and agent["description"] == "reads"
    assert {k: agent[k] for k in METRICS} == METRICS
    agent_id = agent["agentId"]

    retrieved = await alice.client.get(f"/agents/{agent_id}", params={"teamIds": alice.team_id})
    assert retrieved.json() == agent
    listed = await alice.client.get("/agents", params={"nameLike": "research"})
    assert [a["agentId"] for a in listed.json()["items"]] == [agent_id]
    assert {k: listed.json()["items"][0][k] for k in METRICS} == METRICS

    updated = await alice.client.patch(
        f"/agents/{agent_id}", json={"name": "RA", "description": None}
    )
    assert updated.status_code == 200
    assert updated.json()["name"] == "RA" and updated.json()["description"] is None
    assert updated.json()["updatedAt"] >= agent["updatedAt"]
    assert {k: updated.json()[k] for k in METRICS} == METRICS

    deleted = await alice.client.delete(f"/agents/{agent_id}")
    assert deleted.status_code == 200
    assert deleted.json() == {"success": True, "message": "agent deleted"}
    assert_error(await alice.client.get(f"/agents/{agent_id}"), 404)
    assert_error(await alice.client.delete(f"/agents/{agent_id}"), 404)
    assert_error(await alice.client.patch(f"/agents/{agent_id}", json={"name": "x"}), 404)


async def test_agent_team_resolution(make_account: MakeAccount) -> None:
    account = await make_account()
    other = (await account.client.post("/teams", json={"name": "Other"})).json()["teamId"]
    team = account.team_id
    # body team_id (0.2.7 sync), teamId, the single teamIds value, then the token's team
    cases = [
        ({"name": "a", "team_id": team}, {}),
        ({"name": "b", "teamId": team, "team_id": other}, {}),
        ({"name": "c"}, {"teamIds": team}),
        ({"name": "d"}, {"team_ids": team}),
        ({"name": "e"}, {}),
    ]
    for body, params in cases:
        response = await account.client.post("/agents", json=body, params=params)
        assert response.status_code == 201, response.text
        assert response.json()["teamId"] == team, body
    # the token's user is an admin of `other` too, but the token acts in its own team only
    for body, params in [
        ({"name": "f", "teamId": other}, {}),
        ({"name": "h"}, {"teamIds": other}),
        ({"name": "i"}, {"teamIds": f"{other},{team}"}),
    ]:
        response = await account.client.post("/agents", json=body, params=params)
        assert_error(response, 403)
        assert "cannot act in" in response.json()["message"]


async def test_agent_names_unique_per_team(app: FastAPI, make_account: MakeAccount) -> None:
    account = await make_account()
    other = (await account.client.post("/teams", json={"name": "Other"})).json()["teamId"]
    assert (await account.client.post("/agents", json={"name": "dup"})).status_code == 201
    assert_error(await account.client.post("/agents", json={"name": "dup"}), 409, "CONFLICT")
    # same name in another team is fine
    in_other = await account_in(app, account, other)
    assert (await in_other.client.post("/agents", json={"name": "dup"})).status_code == 201
    second = (await account.client.post("/agents", json={"name": "dup2"})).json()
    assert_error(
        await account.client.patch(f"/agents/{second['agentId']}", json={"name": "dup"}), 409
    )
    # renaming to its own name is not a clash
    response = await account.client.patch(f"/agents/{second['agentId']}", json={"name": "dup2"})
    assert response.status_code == 200
    await in_other.client.aclose()


async def test_agent_list_filters_and_sorting(app: FastAPI, make_account: MakeAccount) -> None:
    account = await make_account()
    other = (await account.client.post("/teams", json={"name": "Other"})).json()["teamId"]
    in_other = await account_in(app, account, other)
    for name, client in [("b", account.client), ("a", account.client), ("c", in_other.client)]:
        assert (await client.post("/agents", json={"name": name})).status_code == 201
    await in_other.client.aclose()
    # a token lists its own team's agents, never those of its user's other teams
    response = await account.client.get("/agents", params={"orderBy": "name"})
    assert [a["name"] for a in response.json()["items"]] == ["a", "b"]
    assert_error(await account.client.get("/agents", params={"teamIds": other}), 403)
    response = await account.client.get(
        "/agents", params=[("teamIds", account.team_id), ("orderBy", "updated_at")]
    )
    assert response.json()["pagination"]["totalItems"] == 2
    response = await account.client.get(
        "/agents", params={"orderBy": "name", "orderDirection": "desc"}
    )
    assert [a["name"] for a in response.json()["items"]] == ["b", "a"]
