"""A team keeps an admin even when its last two admins demote or remove each other at once."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from api_helpers import MakeAccount, account_in
from fastapi import FastAPI
from sqlalchemy import func, select

from moderately.db.models import TeamUser

pytestmark = pytest.mark.anyio
ROUNDS = 5


async def _admins(app: FastAPI, team_id: str) -> int:
    async with app.state.database.session(write=False) as session:
        count = await session.scalar(
            select(func.count()).where(TeamUser.team_id == team_id, TeamUser.role == "admin")
        )
    return int(count or 0)


@pytest.mark.parametrize("change", ["demote", "remove"])
async def test_two_admins_at_once_leave_one(
    app: FastAPI, make_account: MakeAccount, change: str
) -> None:
    for _ in range(ROUNDS):
        first = await make_account()
        second = await make_account(team_id=first.team_id)
        members = (await first.client.get("/team-users")).json()["items"]
        row = {m["userId"]: m["teamUserId"] for m in members}
        promoted = await first.client.patch(
            f"/team-users/{row[second.user_id]}", json={"role": "admin"}
        )
        assert promoted.status_code == 200
        second = await account_in(app, second, first.team_id, role="admin")

        async def act(client: httpx.AsyncClient, target: str) -> int:
            """One admin changes the other's membership."""
            url = f"/team-users/{target}"
            if change == "demote":
                response = await client.patch(url, json={"role": "member"})
            else:
                response = await client.delete(url)
            return response.status_code

        statuses = await asyncio.gather(
            act(first.client, row[second.user_id]), act(second.client, row[first.user_id])
        )
        # serialised: one change lands; the other finds the last admin (400), or finds its own
        # token no longer acting as admin (403), or its user gone from the team (401)
        assert sorted(statuses)[0] == 200 and sorted(statuses)[1] in (400, 401, 403), statuses
        assert await _admins(app, first.team_id) == 1
        await second.client.aclose()
