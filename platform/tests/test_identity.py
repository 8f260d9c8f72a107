"""Users, teams and team-users: happy paths and their rules."""

from __future__ import annotations

import pytest
from api_helpers import MakeAccount, account_in, assert_error
from fastapi import FastAPI

from moderately.db.models import Agent, Team

pytestmark = pytest.mark.anyio


async def test_users_list_retrieve_update(make_account: MakeAccount) -> None:
    admin = await make_account(email="Zed.Admin@Example.com")
    member = await make_account(team_id=admin.team_id)
    response = await admin.client.get("/users", params={"teamIds": admin.team_id})
    assert response.status_code == 200
    assert {u["userId"] for u in response.json()["items"]} == {admin.user_id, member.user_id}
    user = (await admin.client.get(f"/users/{member.user_id}")).json()
    assert set(user) == {"userId", "fullName", "createdAt", "updatedAt"}  # no nickname yet

    response = await member.client.patch(
        f"/users/{member.user_id}", json={"full_name": "Mona Member", "nickname": "mo"}
    )
    assert response.status_code == 200
    assert response.json()["fullName"] == "Mona Member" and response.json()["nickname"] == "mo"
    # nickname alone (UserModel.update_profile), then cleared with null
    response = await member.client.patch(f"/users/{member.user_id}", json={"nickname": "m2"})
    assert response.json()["fullName"] == "Mona Member" and response.json()["nickname"] == "m2"
    response = await member.client.patch(f"/users/{member.user_id}", json={"nickname": None})
    assert "nickname" not in response.json()
    # only yourself
    assert_error(await admin.client.patch(f"/users/{member.user_id}", json={"fullName": "x"}), 403)
    assert_error(await member.client.patch(f"/users/{member.user_id}", json={"fullName": ""}), 400)

    # filters: ids, emails (case-insensitive), name and nickname substrings, sorting
    async def ids(**params: object) -> list[str]:
        response = await admin.client.get("/users", params=params)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        return [u["userId"] for u in response.json()["items"]]

    assert await ids(userIds=member.user_id) == [member.user_id]
    assert await ids(userEmails="zed.admin@example.com") == [admin.user_id]
    assert await ids(fullNameLike="ONA mem") == [member.user_id]
    await member.client.patch(f"/users/{member.user_id}", json={"nickname": "m3"})
    assert await ids(nicknameLike="M3", teamIds=admin.team_id) == [member.user_id]
    assert await ids(fullNameLike="%") == []
    assert await ids(order_by="full_name", teamIds=admin.team_id) == [
        member.user_id, admin.user_id
    ]  # fmt: skip


async def test_user_teams(make_account: MakeAccount) -> None:
    admin = await make_account()
    second = await admin.client.post("/teams", json={"name": "Second"})
    assert second.status_code == 200
    response = await admin.client.get(f"/users/{admin.user_id}/teams", params={"pageSize": 1})
    assert response.status_code == 200
    # a token is bound to its team: the user's other team is not shown to it
    assert response.json()["pagination"]["totalItems"] == 1
    assert response.json()["items"][0]["teamId"] == admin.team_id
    # a team-mate only sees the teams they share with the user
    member = await make_account(team_id=admin.team_id)
    response = await member.client.get(f"/users/{admin.user_id}/teams")
    assert [t["teamId"] for t in response.json()["items"]] == [admin.team_id]


async def test_teams_crud(app: FastAPI, make_account: MakeAccount) -> None:
    creator = await make_account()
    response = await creator.client.post("/teams", json={"name": "Research", "description": "R&D"})
    assert response.status_code == 200  # OAS says 200 for this create
    team = response.json()
    assert team["description"] == "R&D"
    team_id = team["teamId"]
    # the creating token stays bound to its own team: the new team is not its to see or change
    assert_error(await creator.client.get(f"/teams/{team_id}"), 404)
    assert_error(await creator.client.get("/team-users", params={"teamIds": team_id}), 403)
    assert_error(await creator.client.patch(f"/teams/{team_id}", json={"name": "x"}), 404)
    # the caller is its admin: a token for the new team (`moderately admin create-token`) acts there
    alice = await account_in(app, creator, team_id)
    members = (await alice.client.get("/team-users", params={"teamIds": team_id})).json()
    assert [(m["userId"], m["role"]) for m in members["items"]] == [(alice.user_id, "admin")]

    listed = await alice.client.get("/teams", params={"name": "Research"})
    assert [t["teamId"] for t in listed.json()["items"]] == [team_id]
    listed = await alice.client.get(
        "/teams", params={"order_by": "name", "order_direction": "desc"}
    )
    assert listed.json()["pagination"]["totalItems"] == 1

    response = await alice.client.patch(f"/teams/{team_id}", json={"name": "R2", "name_x": 1})
    assert response.status_code == 200 and response.json()["name"] == "R2"
    assert response.json()["description"] == "R&D"
    response = await alice.client.patch(f"/teams/{team_id}", json={"description": None})
    assert response.json()["description"] is None
    assert (await alice.client.get(f"/teams/{team_id}")).json()["name"] == "R2"

    agent = await alice.client.post("/agents", json={"name": "in-r2", "teamId": team_id})
    assert agent.status_code == 201
    response = await alice.client.delete(f"/teams/{team_id}")
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "team deleted"}
    # the team's tokens went with it, and its resources
    assert_error(await alice.client.get("/teams"), 401)
    async with app.state.database.session() as session:
        assert await session.get(Agent, agent.json()["agentId"]) is None
        assert await session.get(Team, team_id) is None


async def test_team_admin_rules(make_account: MakeAccount) -> None:
    admin = await make_account()
    member = await make_account(team_id=admin.team_id)
    assert (await member.client.get(f"/teams/{admin.team_id}")).status_code == 200
    assert_error(await member.client.patch(f"/teams/{admin.team_id}", json={"name": "x"}), 403)
    assert_error(await member.client.delete(f"/teams/{admin.team_id}"), 403)
    assert_error(await admin.client.post("/teams", json={"name": " " * 0}), 400)


async def test_team_users(app: FastAPI, make_account: MakeAccount) -> None:
    admin = await make_account()
    member = await make_account(team_id=admin.team_id)
    page = (await admin.client.get("/team-users", params={"teamIds": admin.team_id})).json()
    by_user = {m["userId"]: m for m in page["items"]}
    admin_row, member_row = by_user[admin.user_id], by_user[member.user_id]
    assert member_row["role"] == "member" and member_row["email"] == member.email
    assert admin_row["isDefault"] is True

    # filters
    async def count(**params: object) -> int:
        response = await admin.client.get("/team-users", params=params)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        return int(response.json()["pagination"]["totalItems"])

    assert await count(roles="admin,member", teamIds=admin.team_id) == 2
    assert await count(roles="member") == 1
    assert await count(emailLike=member.email.upper()[:8]) == 1
    assert await count(teamUserIds=member_row["teamUserId"]) == 1
    assert await count(userIds=[admin.user_id, member.user_id], order_by="role") == 2
    assert_error(await admin.client.get("/team-users", params={"orderBy": "email"}), 400)

    retrieved = await member.client.get(f"/team-users/{admin_row['teamUserId']}")
    assert retrieved.status_code == 200 and retrieved.json() == admin_row

    # members can't change roles; admins can; a team keeps one admin
    url = f"/team-users/{member_row['teamUserId']}"
    assert_error(await member.client.patch(url, json={"role": "admin"}), 403)
    assert (await member.client.patch(url, json={"isDefault": True})).status_code == 200
    response = await admin.client.patch(url, json={"role": "admin", "is_default": False})
    assert response.status_code == 200 and response.json()["role"] == "admin"
    assert response.json()["isDefault"] is False
    # the promoted member acts as admin with an admin token; its member token stays member
    assert_error(await member.client.patch(f"/teams/{admin.team_id}", json={"name": "x"}), 403)
    member = await account_in(app, member, admin.team_id, role="admin")
    admin_url = f"/team-users/{admin_row['teamUserId']}"
    assert (await admin.client.patch(admin_url, json={"role": "member"})).status_code == 200
    body = assert_error(await member.client.patch(url, json={"role": "member"}), 400)
    assert body["details"]
    assert_error(await member.client.delete(url), 400)  # last admin
    assert_error(await member.client.patch(url, json={"role": "owner"}), 400)
    response = await member.client.delete(admin_url)
    assert response.status_code == 200 and response.json()["success"] is True
    assert_error(await member.client.get(admin_url), 404)
    # the removed user's token no longer works for that team (it was the token's team)
    assert_error(await admin.client.get("/agents"), 401)
